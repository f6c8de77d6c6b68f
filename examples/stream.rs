//! Accumulation and metrics on a real stream: a loopback TCP server sends a
//! text in chunks, with delays; the client keeps the chunks, the whole text
//! so far and the metrics.
//!
//! 1. A complete transfer: live progress, then the final metrics.
//! 2. The server drops the connection mid-stream: the client's read loop
//!    fails with `?`, and the partial text and metrics are still there.
//! 3. The client gives up after a timeout (the future is cancelled): same.
//!
//! Runs with no setup: `cargo run --example stream` (127.0.0.1, an OS-chosen
//! port, about one second).

use std::io;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use managed::stream::{Accumulator, AsyncChunksExt, Meter, StreamMetrics};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

const TEXT: &str = "It was the best of times, it was the worst of times, it was the age of wisdom, \
                    it was the age of foolishness, it was the epoch of belief...";
const CHUNK: usize = 16;
const DELAY: Duration = Duration::from_millis(25);

/// What the server does on a connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Sends the whole text.
    Complete,
    /// Hangs up after this many chunks.
    HangUpAfter(usize),
    /// Goes silent after this many chunks (and keeps the connection open).
    StallAfter(usize),
}

/// Sends `TEXT` as `"<length>\n"` then chunks of `CHUNK` bytes, `DELAY` apart.
async fn serve(mut socket: TcpStream, behaviour: Behaviour) -> io::Result<()> {
    socket.set_nodelay(true)?;
    socket.write_all(format!("{}\n", TEXT.len()).as_bytes()).await?;
    for (i, chunk) in TEXT.as_bytes().chunks(CHUNK).enumerate() {
        match behaviour {
            Behaviour::HangUpAfter(n) if i == n => return Ok(()), // drops the socket mid-stream
            Behaviour::StallAfter(n) if i == n => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                return Ok(());
            }
            _ => {}
        }
        tokio::time::sleep(DELAY).await;
        socket.write_all(chunk).await?;
    }
    socket.shutdown().await
}

/// The body of a response as a stream of text chunks: `Err` if the
/// connection ends before the announced length.
async fn body(socket: TcpStream) -> io::Result<impl Stream<Item = io::Result<String>>> {
    let mut reader = BufReader::new(socket);
    let mut header = String::new();
    reader.read_line(&mut header).await?;
    let length: usize = header.trim().parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(futures::stream::unfold((reader, 0usize), move |(mut reader, received)| async move {
        if received == length {
            return None;
        }
        let mut buf = vec![0u8; 64];
        let item = match reader.read(&mut buf).await {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("connection closed after {received} of {length} bytes"),
            )),
            Ok(n) => {
                buf.truncate(n);
                String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
            }
            Err(e) => Err(e),
        };
        let received = received + item.as_ref().map_or(0, String::len);
        Some((item, (reader, received)))
    }))
}

/// Reads a whole response into `text`, metered into `meter`, printing
/// progress. Both belong to the caller: whatever happens here (an error
/// returned with `?`, a cancelled future), what was received stays there.
async fn download(socket: TcpStream, text: &mut Accumulator, meter: &mut Meter) -> io::Result<()> {
    let chunks = body(socket).await?;
    let mut chunks = std::pin::pin!(chunks.metered_into(meter).accumulate_into(text));
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        let m = chunks.metrics();
        println!("  chunk {:>2}: {:>2} bytes, {:>3} so far  {:?}", m.chunk_count, chunk.len(), m.total_bytes, chunk);
    }
    Ok(())
}

fn print_metrics(m: &StreamMetrics) {
    let first = m.time_to_first_chunk.map_or("-".to_string(), |t| format!("{t:.1?}"));
    println!(
        "  metrics: first chunk after {first}, total {:.1?}, {} chunks, {} bytes",
        m.total_time, m.chunk_count, m.total_bytes
    );
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let behaviours = [Behaviour::Complete, Behaviour::HangUpAfter(4), Behaviour::StallAfter(3)];
    let server = tokio::spawn(async move {
        for behaviour in behaviours {
            let (socket, _) = listener.accept().await?;
            tokio::spawn(serve(socket, behaviour));
        }
        io::Result::Ok(())
    });

    println!("1. complete transfer from {address}");
    let (mut text, mut meter) = (Accumulator::new(), Meter::new());
    download(TcpStream::connect(address).await?, &mut text, &mut meter).await?;
    print_metrics(&meter.metrics());
    println!("  end: {:?}; text: {:?}", meter.end(), text.content());
    assert_eq!(text.finalize(), TEXT);

    println!("\n2. the server hangs up mid-stream");
    let (mut text, mut meter) = (Accumulator::new(), Meter::new());
    let result = download(TcpStream::connect(address).await?, &mut text, &mut meter).await;
    let error = result.expect_err("the server hung up");
    println!("  error: {error}");
    print_metrics(&meter.metrics());
    println!("  end: {:?}; kept: {:?}", meter.end(), text.content());
    assert!(!text.is_empty() && TEXT.starts_with(text.content()));

    println!("\n3. the client gives up (timeout: the download future is cancelled)");
    let (mut text, mut meter) = (Accumulator::new(), Meter::new());
    let socket = TcpStream::connect(address).await?;
    let timed_out = tokio::time::timeout(Duration::from_millis(300), download(socket, &mut text, &mut meter)).await;
    assert!(timed_out.is_err());
    println!("  timed out");
    print_metrics(&meter.metrics());
    println!("  end: {:?}; kept: {:?}", meter.end(), text.content());
    assert!(!text.is_empty() && TEXT.starts_with(text.content()));

    server.await.map_err(io::Error::other)??;
    Ok(())
}

use managed::managed;

#[derive(Debug)]
struct AppError;

#[managed(error = AppError)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

fn main() {}

// `finalize` consumes the accumulator: pushing afterwards is a compile error.
use managed::stream::Accumulator;

fn main() {
    let mut acc = Accumulator::new();
    acc.push("partial ");
    let text = acc.finalize();
    acc.push("too late");
    println!("{text}");
}

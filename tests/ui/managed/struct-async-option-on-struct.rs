// `async` marks a field or a hook, not the struct: the error says where it
// goes.
use managed::managed;

#[managed(async)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

fn main() {}

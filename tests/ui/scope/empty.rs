// An empty scope has no value.
use managed::prelude::*;

fn main() -> std::io::Result<()> {
    scope! {}
}

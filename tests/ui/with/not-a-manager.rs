// `with!` given a plain value that has no enter and exit.
use managed::prelude::*;

struct Config {
    verbose: bool,
}

fn main() -> Result<(), managed::Error> {
    scope! {
        let config = with!(Config { verbose: true })?;
        if config.verbose {
            println!("verbose");
        }
        Ok::<_, managed::Error>(())
    }
}

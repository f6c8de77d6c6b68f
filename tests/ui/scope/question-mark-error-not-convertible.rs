// `?` in a scope converts into the scope's error: a `ParseIntError` does not
// convert into this `AppError`.
use managed::{scope, with};
use std::io::BufWriter;

#[derive(Debug)]
enum AppError {
    Io(std::io::Error),
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Io(e)
    }
}

fn main() -> Result<(), AppError> {
    scope! {
        let _out = with!(BufWriter::new(Vec::new()))?;
        let n: u32 = "7".parse()?;
        println!("{n}");
        Ok::<_, AppError>(())
    }
}

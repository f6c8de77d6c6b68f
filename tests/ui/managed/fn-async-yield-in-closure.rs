use managed::{managed, yield_};

#[managed]
async fn lease(mut value: u32) -> u32 {
    let lend = async move {
        yield_!(value);
    };
    lend.await;
}

fn main() {}

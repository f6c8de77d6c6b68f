use managed::{managed, yield_};

fn discard(conn: &mut Vec<String>) {
    conn.clear();
}

#[managed(on_cancel = discard)]
pub async fn transaction(mut conn: Vec<String>, name: &str) -> Result<Vec<String>, std::fmt::Error> {
    conn.push(format!("BEGIN {name}"));
    let outcome = yield_!(conn);
    conn.push(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" }.to_owned());
}

// The proc macro behind `managed::scope!`, called without the facade.
fn main() {
    let _: Result<(), managed::Error> = managed_macros::scope! { Ok(()) };
    managed_macros::defer! { println!("done") }
}

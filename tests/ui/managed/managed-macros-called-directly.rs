// The attribute behind `managed::managed`, used from the macro crate
// without the facade.
struct Conn(u32);

#[managed_macros::managed]
impl Conn {
    #[enter]
    fn open(&mut self) -> &mut u32 {
        &mut self.0
    }
}

fn main() {}

use managed::managed;

#[managed]
trait Resource {
    fn close(self);
}

fn main() {}

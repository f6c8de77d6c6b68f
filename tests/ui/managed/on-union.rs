use managed::managed;

#[managed]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}

use managed::prelude::*;
use std::cell::RefCell;

struct Probe<'a> {
    name: &'static str,
    log: &'a RefCell<Vec<String>>,
    fail_exit: bool,
}
impl Manage for Probe<'_> {
    type Target = Self;
    type Error = managed::Error;
    fn enter(&mut self) -> Result<&mut Self, managed::Error> {
        self.log.borrow_mut().push(format!("enter {}", self.name));
        Ok(self)
    }
    fn exit(self, o: &Outcome<'_>) -> Result<(), managed::Error> {
        self.log.borrow_mut().push(format!("exit {} {:?}", self.name, o));
        if self.fail_exit {
            Err(managed::Error::msg(format!("exit {} failed", self.name)))
        } else {
            Ok(())
        }
    }
}

#[test]
fn smoke() {
    let log = RefCell::new(vec![]);
    let r = scope! {
        let a = with!(Probe { name: "a", log: &log, fail_exit: true })?;
        defer!(err => log.borrow_mut().push("errdefer".into()));
        let b = with!(Probe { name: "b", log: &log, fail_exit: true })?;
        a.log.borrow_mut().push("body".into());
        let _ = b;
        Err::<u32, _>(managed::Error::msg("body failed"))
    };
    let e = r.unwrap_err();
    println!("{e:#}");
    println!("{:#?}", log.borrow());
}

use managed::{managed, Outcome};
pub struct Conn {
    open: bool,
}
impl Conn {
    fn connect(&mut self) -> Result<(), std::io::Error> {
        self.open = true;
        Ok(())
    }
    fn close(self, outcome: &Outcome) -> Result<(), std::io::Error> {
        let _ = (self.open, outcome.is_ok());
        Ok(())
    }
}
#[diagnostic::do_not_recommend]
impl ::managed::__private::Manage for Conn {
    type Target = Self;
    type Error = std::io::Error;
    #[inline]
    fn enter(&mut self) -> ::managed::__private::Result<&mut Self, Self::Error> {
        <_ as ::managed::__private::Returns<
            Self::Error,
        >>::into_result(Self::connect(self))?;
        ::managed::__private::Ok(self)
    }
    #[inline]
    fn exit(
        self,
        outcome: &::managed::__private::Outcome<'_>,
    ) -> ::managed::__private::Result<(), Self::Error> {
        <_ as ::managed::__private::Returns<
            Self::Error,
        >>::into_result(Self::close(self, outcome))
    }
}
pub struct Counter;
impl Counter {
    fn done(self) {}
}
#[diagnostic::do_not_recommend]
impl ::managed::__private::Manage for Counter {
    type Target = Self;
    type Error = ::managed::__private::Infallible;
    #[inline]
    fn enter(&mut self) -> ::managed::__private::Result<&mut Self, Self::Error> {
        ::managed::__private::Ok(self)
    }
    #[inline]
    fn exit(
        self,
        outcome: &::managed::__private::Outcome<'_>,
    ) -> ::managed::__private::Result<(), Self::Error> {
        let _ = outcome;
        <_ as ::managed::__private::Returns<Self::Error>>::into_result(Self::done(self))
    }
}

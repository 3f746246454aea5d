//! What must not compile, checked by compiling it (`trybuild`): a required property left out
//! or left to a default, an enum-like property written as text, an output `cairn::format!`
//! cannot format (the error says what to do), and declarations whose
//! attributes name no property. Each case's expected error is beside it (`*.stderr`).

#[test]
fn mistakes_in_declarations_and_arguments_do_not_compile() {
    trybuild::TestCases::new().compile_fail("compile-fail/*.rs");
}

//! The compile errors of the mistakes a new user makes, pinned (trybuild): each
//! `ui/*.rs` must fail to compile with the message in its `.stderr`, which says what
//! to write instead. Regenerate the messages with `TRYBUILD=overwrite` after a
//! deliberate change (and read them). The forms that compile are tested against a
//! real server in `it/user_forms.rs`.

#[test]
fn usual_mistakes() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}

//! The generator and the client name the same vocabularies (command flags, ACL
//! categories, key-spec flags): the generator's lists, which decide what a spec may
//! use, and the client's bitflags, which the generated metadata is built from, must
//! hold exactly the same words.

use respec::command::meta::{CommandFlags, KeySpecFlags};
use respec::command::AclCategories;
use std::collections::BTreeSet;

fn same(what: &str, generator: &[&str], client: impl Iterator<Item = &'static str>) {
    let generator: BTreeSet<&str> = generator.iter().copied().collect();
    let client: BTreeSet<&str> = client.collect();
    assert_eq!(
        generator, client,
        "{what}: the generator's list (codegen/src/emit/meta.rs) and the client's bitflags (client/src/command/meta.rs) differ"
    );
}

#[test]
fn the_generator_and_the_client_know_the_same_words() {
    use respec_codegen::emit::meta::{ACL, COMMAND_FLAGS, KEY_FLAGS};
    same(
        "command flags",
        COMMAND_FLAGS,
        CommandFlags::all().iter_names().map(|(n, _)| n),
    );
    same(
        "ACL categories",
        ACL,
        AclCategories::all().iter_names().map(|(n, _)| n),
    );
    same(
        "key-spec flags",
        KEY_FLAGS,
        KeySpecFlags::all().iter_names().map(|(n, _)| n),
    );
}

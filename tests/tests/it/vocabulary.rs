//! The generator and the client name the same vocabularies (command flags, ACL
//! categories, key-spec flags, tips): the generator's lists, which decide which words
//! of a spec get a bit of their own, and the client's bitflags, which the generated
//! metadata is built from, must hold exactly the same words, besides the `OTHER` bit
//! that stands for the words neither knows (a newer server's).

use respec::command::meta::{CommandFlags, KeySpecFlags, Tips};
use respec::command::AclCategories;
use std::collections::BTreeSet;

fn same(what: &str, generator: &[&str], client: impl Iterator<Item = &'static str>) {
    let generator: BTreeSet<&str> = generator.iter().copied().collect();
    let client: BTreeSet<&str> = client.filter(|n| *n != "OTHER").collect();
    assert_eq!(
        generator, client,
        "{what}: the generator's list (codegen/src/vocab.rs) and the client's bitflags (protocol/src/command/meta.rs) differ"
    );
}

#[test]
fn the_generator_and_the_client_know_the_same_words() {
    use respec_codegen::vocab::{ACL_CATEGORIES, COMMAND_FLAGS, KEY_SPEC_FLAGS, TIPS};
    same(
        "command flags",
        COMMAND_FLAGS,
        CommandFlags::all().iter_names().map(|(n, _)| n),
    );
    same(
        "ACL categories",
        ACL_CATEGORIES,
        AclCategories::all().iter_names().map(|(n, _)| n),
    );
    same(
        "key-spec flags",
        KEY_SPEC_FLAGS,
        KeySpecFlags::all().iter_names().map(|(n, _)| n),
    );
    same("tips", TIPS, Tips::all().iter_names().map(|(n, _)| n));
}

//! The README's tour, compiled and run.

use bytes::Bytes;
use respec::types::{ExistenceCondition, ScoreBound};
use respec::{cmd, Command, FromReply};

#[test]
fn readme_tour() -> respec::Result<()> {
    let set = cmd::set("lock", "me").px(30_000).nx();
    assert_eq!(
        set.buf().iter().collect::<Vec<_>>(),
        [&b"SET"[..], b"lock", b"me", b"NX", b"PX", b"30000"]
    );

    let add = cmd::zadd("board", [(1.5, "a")]).condition(ExistenceCondition::Xx);
    assert_eq!(
        add.buf().iter().collect::<Vec<_>>(),
        [&b"ZADD"[..], b"board", b"XX", b"1.5", b"a"]
    );

    let top = cmd::zrange("board", 0, -1).withscores();
    let resp3 = Bytes::from_static(b"*1\r\n*2\r\n$5\r\nalice\r\n,42\r\n");
    let resp2 = Bytes::from_static(b"*2\r\n$5\r\nalice\r\n$2\r\n42\r\n");
    type Top = <cmd::Zrange<respec::Detached, Vec<(Bytes, f64)>> as Command>::Output;
    assert_eq!(Top::from_frame(resp3)?, Top::from_frame(resp2.clone())?);
    assert_eq!(
        Top::from_frame(resp2)?,
        vec![(Bytes::from_static(b"alice"), 42.0)]
    );
    assert!(top.validate().is_ok());

    let n = cmd::zcount("board", ScoreBound::Exclusive(10.0), ScoreBound::PosInf);
    assert_eq!(
        n.buf().iter().collect::<Vec<_>>(),
        [&b"ZCOUNT"[..], b"board", b"(10", b"+inf"]
    );

    let name = cmd::get("user:1:name").decode::<String>();
    assert_eq!(
        String::from_frame(Bytes::from_static(b"$3\r\nbob\r\n"))?,
        "bob"
    );
    assert_eq!(name.buf().len(), 2);
    let raw = respec::raw_cmd("JSON.GET").arg("doc").arg("$");
    assert_eq!(
        &raw.buf().to_bytes()[..],
        b"*3\r\n$8\r\nJSON.GET\r\n$3\r\ndoc\r\n$1\r\n$\r\n"
    );
    assert!(respec::command::meta::lookup("client kill").is_some());
    Ok(())
}

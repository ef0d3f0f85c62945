use respec::{Client, Commands};

#[tokio::main(flavor = "current_thread")]
async fn main() -> respec::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into());
    let client = Client::connect(&url).await?;
    client.set("foo", 1).await?;
    println!("incrby -> {}", client.incrby("foo", 100).await?);
    let v: Option<bytes::Bytes> = client.get("foo").await?;
    println!("get -> {v:?}");
    let s: Option<String> = client.get("foo").decode().await?;
    println!("get string -> {s:?}");
    println!(
        "set nx -> {}",
        client.set("lock", "me").nx().px(30_000).await?
    );
    println!("set get -> {:?}", client.set("foo", "v2").get().await?);
    client.del(["board"]).await?;
    client.zadd("board", [(1.0, "a"), (2.5, "b")]).await?;
    println!(
        "zrange -> {:?}",
        client.zrange("board", 0, -1).withscores().await?
    );
    println!("blpop -> {:?}", client.blpop(["nolist"], 0.1).await?);
    println!("raw -> {:?}", client.cmd("PING").await?);
    match client.incr("board").await {
        Err(e) => println!("error -> {e} (server: {})", e.is_server()),
        Ok(v) => println!("unexpected {v}"),
    }
    let (ok, n, v) = client
        .pipeline()
        .add(respec::cmd::set("a", 1))
        .add(respec::cmd::incr("a"))
        .add(respec::cmd::get("a"))
        .execute()
        .await?;
    println!("pipeline -> {ok} {n} {v:?}");
    let all = client
        .batch((0..5).map(|i| respec::cmd::incrby("ctr", i)))
        .await?;
    println!("batch -> {all:?}");
    let text: Option<String> = client.strings().get("foo").await?;
    let board: Vec<(String, f64)> = client.strings().zrange("board", 0, -1).withscores().await?;
    println!("strings -> {text:?} {board:?}");
    Ok(())
}

//! The read-heavy cache: a GenServer owns a protected Table and makes every
//! write (so writes are ordered and validated in one place); readers go
//! straight to the Table, from any process or thread, without a call.
//!
//! `cargo run --example read_through_cache`

use std::thread;

use rotp::prelude::*;

/// The owner of the `prices` table.
struct Prices(Table<String, u64>);

enum Write {
    Put(String, u64, ReplyTo<()>),
    Remove(String, ReplyTo<()>),
}

#[gen_server]
impl GenServer for Prices {
    fn init((): (), ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        // Created in init: the server process owns it, and the table goes
        // when the server does.
        let table = Table::new(&ctx.handle(), TableOptions::new().name("prices")).unwrap();
        Init::ok(Prices(table))
    }

    fn handle_call(&mut self, w: Write, _: &mut Ctx<'_, Self>) -> Handled<Self> {
        match w {
            Write::Put(item, price, r) => {
                self.0.insert(item, price)?;
                r.reply(())
            }
            Write::Remove(item, r) => {
                self.0.delete(&item)?;
                r.reply(())
            }
        }
    }
}

pub(crate) fn run() {
    let rt = Runtime::new().unwrap();
    let server = gen_server::start::<Prices>(&rt, (), StartOptions::new()).unwrap();
    server.call(|r| Write::Put("apple".into(), 3, r)).unwrap();
    server.call(|r| Write::Put("pear".into(), 4, r)).unwrap();

    // Readers: four plain threads, no calls.
    let table = Table::<String, u64>::whereis(&rt, "prices").unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let table = table.clone();
            thread::spawn(move || {
                (0..1000)
                    .map(|_| table.get(&"apple".to_string()).unwrap().unwrap_or(0))
                    .sum::<u64>()
            })
        })
        .collect();
    for r in readers {
        assert_eq!(r.join().unwrap(), 3000);
    }

    // Writes from elsewhere are refused: they go through the server.
    assert!(table.insert("plum".into(), 1).is_err());
    server.call(|r| Write::Remove("pear".into(), r)).unwrap();
    assert_eq!(table.get(&"pear".to_string()).unwrap(), None);

    // The table lives and dies with its owner.
    server.stop(ExitReason::Normal, None).unwrap();
    assert!(table.is_deleted());
    println!("read-through cache: reads never called the server");
}

#[allow(dead_code)]
fn main() {
    run();
}

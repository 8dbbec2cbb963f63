//! Writes a simulated run to a directory and prints what it wrote, with the
//! time it took:
//! `cargo run --release -p custos-sim --example simgen -- --days 30 --seed 1 --out /tmp/sim`
//! Options: `--days N --seed S --agents N --customers N --out DIR
//! --no-attacks --no-jitter --count-only` (`--count-only` generates
//! without writing, to measure the generator alone).

use std::path::PathBuf;
use std::time::Instant;

use custos_sim::{SimConfig, write_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = SimConfig::default();
    let mut out = PathBuf::from("sim-out");
    let mut count_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--days" => config.days = value()?.parse()?,
            "--seed" => config.seed = value()?.parse()?,
            "--agents" => config.agents = value()?.parse()?,
            "--customers" => config.customers = value()?.parse()?,
            "--out" => out = PathBuf::from(value()?),
            "--no-attacks" => config.attacks = false,
            "--no-jitter" => config.jitter = false,
            "--count-only" => count_only = true,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let started = Instant::now();
    if count_only {
        let sim = custos_sim::Simulator::new(config)?;
        let (events, bytes) = sim.fold((0u64, 0usize), |(n, b), line| (n + 1, b + line.len() + 1));
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{events} events ({bytes} bytes) generated in {secs:.2} s ({:.0} events/s)",
            events as f64 / secs
        );
        return Ok(());
    }
    let summary = write_dir(config, &out)?;
    let secs = started.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string_pretty(&summary)?);
    println!(
        "{} events in {:.2} s ({:.0} events/s) to {}",
        summary.events,
        secs,
        summary.events as f64 / secs,
        out.display()
    );
    Ok(())
}

//! Memory stays bounded by about a day of events, however long the run.

use custos_sim::{SimConfig, Simulator};

#[test]
fn sixty_days_stream_with_bounded_buffer() {
    let config = SimConfig {
        days: 60,
        agents: 20,
        customers: 800,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(config).unwrap();
    let mut events = 0u64;
    let mut max_buffer_early = 0;
    let mut max_buffer_late = 0;
    let mut last_day = 0;
    let day_of = |line: &str| -> i64 {
        let ts = &line[line.find("\"ts\":\"").unwrap() + 6..][..20];
        (custos_sim::time::parse_rfc3339(ts).unwrap() - config.start) / 86_400
    };
    while let Some(line) = sim.next() {
        events += 1;
        let day = day_of(&line);
        last_day = last_day.max(day);
        let buffered = sim.buffered_events();
        if day < 10 {
            max_buffer_early = max_buffer_early.max(buffered);
        } else if day >= 50 {
            max_buffer_late = max_buffer_late.max(buffered);
        }
    }
    assert_eq!(last_day, 59);
    let per_day = events as usize / 60;
    assert!(
        max_buffer_late <= 3 * per_day,
        "buffer {max_buffer_late} vs {per_day} events a day"
    );
    // The buffer does not grow with the run.
    assert!(
        max_buffer_late <= max_buffer_early * 2,
        "{max_buffer_late} late vs {max_buffer_early} early"
    );
    assert_eq!(sim.buffered_events(), 0);
    assert_eq!(sim.truth().events, events);
}

//! The statistics attribution needs: a Poisson upper tail and the
//! Benjamini–Hochberg correction.

/// `P(X >= k)` for `X ~ Poisson(lambda)`, accurate for tiny tails.
pub fn poisson_upper_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 || !lambda.is_finite() {
        return if lambda <= 0.0 { 0.0 } else { 1.0 };
    }
    let ln_term = |i: u64| -> f64 {
        let ln_fact: f64 = (2..=i).map(|j| (j as f64).ln()).sum();
        -lambda + i as f64 * lambda.ln() - ln_fact
    };
    if (k as f64) > lambda {
        // Sum the tail upward; terms fall at least geometrically past lambda.
        let mut ln_t = ln_term(k);
        let mut sum = 0.0;
        let mut i = k;
        loop {
            let t = ln_t.exp();
            sum += t;
            if t <= sum * 1e-16 || i > k + 100_000 {
                break;
            }
            i += 1;
            ln_t += lambda.ln() - (i as f64).ln();
        }
        sum.min(1.0)
    } else {
        let mut ln_t = -lambda;
        let mut lower = 0.0;
        for i in 0..k {
            if i > 0 {
                ln_t += lambda.ln() - (i as f64).ln();
            }
            lower += ln_t.exp();
        }
        (1.0 - lower).clamp(0.0, 1.0)
    }
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the input's order,
/// for `m` tests of which `p_values` are the ones given (the others have
/// `p = 1`).
pub fn benjamini_hochberg(p_values: &[f64], m: usize) -> Vec<f64> {
    let m = m.max(p_values.len()) as f64;
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let mut q = vec![1.0; p_values.len()];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = p_values[i] * m / (rank + 1) as f64;
        running = running.min(adjusted);
        q[i] = running.min(1.0);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1e-300)
    }

    #[test]
    fn poisson_tail_matches_known_values() {
        // P(X >= 1) = 1 - e^-lambda
        assert!(close(poisson_upper_tail(1, 0.5), 1.0 - (-0.5f64).exp()));
        // P(X >= 3 | 2) = 1 - e^-2 (1 + 2 + 2)
        assert!(close(
            poisson_upper_tail(3, 2.0),
            1.0 - (-2.0f64).exp() * 5.0
        ));
        assert_eq!(poisson_upper_tail(0, 3.0), 1.0);
        // 37 of 52 victims against 0.8 expected is astronomically unlikely
        let p = poisson_upper_tail(37, 0.8);
        assert!(p > 0.0 && p < 1e-40, "{p}");
        // monotone in k
        assert!(poisson_upper_tail(5, 3.0) < poisson_upper_tail(4, 3.0));
    }

    #[test]
    fn bh_matches_hand_computation() {
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03], 4);
        // sorted 0.01, 0.03, 0.04 -> 0.04, 0.06, 0.0533 -> monotone 0.04, 0.0533, 0.0533
        assert!(close(q[0], 0.04));
        assert!(close(q[2], 0.16 / 3.0));
        assert!(close(q[1], 0.16 / 3.0));
    }
}

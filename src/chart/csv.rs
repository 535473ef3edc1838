//! CSV export of the buffered data: one row per time stamp, one column per series, empty where a
//! series has no sample at that time. Times are the chart's (device ms, or arrival ms).

use super::history::History;

pub fn to_csv(history: &History) -> String {
    let names: Vec<&str> = history.names().collect();
    let mut samples: Vec<(f64, usize, f64)> = Vec::new();
    for (col, name) in names.iter().enumerate() {
        if let Some(ring) = history.get(name) {
            samples.extend(ring.iter().map(|(t, v)| (t, col, v)));
        }
    }
    // Stable: samples of one series keep their order at equal times.
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = String::from("time_ms");
    for name in &names {
        out.push(',');
        out.push_str(&quote(name));
    }
    out.push('\n');
    let mut row: Vec<Option<f64>> = vec![None; names.len()];
    let mut row_t: Option<f64> = None;
    let flush = |out: &mut String, t: f64, row: &mut Vec<Option<f64>>| {
        out.push_str(&format!("{t}"));
        for v in row.iter_mut() {
            out.push(',');
            if let Some(v) = v.take() {
                // Stored as f32: its shortest form is what the device sent (to f32 precision).
                out.push_str(&format!("{}", v as f32));
            }
        }
        out.push('\n');
    };
    for (t, col, v) in samples {
        if row_t.is_some_and(|rt| rt != t) || row[col].is_some() {
            if let Some(rt) = row_t {
                flush(&mut out, rt, &mut row);
            }
        }
        row_t = Some(t);
        row[col] = Some(v);
    }
    if let Some(rt) = row_t {
        flush(&mut out, rt, &mut row);
    }
    out
}

/// A field as CSV wants it: quoted when it holds a comma, quote or line break.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsdeck_protocol::Telemetry;

    fn tel(ms: f64, values: &[(&str, f64)]) -> Telemetry {
        Telemetry {
            ms: Some(ms),
            values: values.iter().map(|(k, v)| (k.to_string(), wsdeck_protocol::Reading::Num(*v))).collect(),
            ..Telemetry::default()
        }
    }

    #[test]
    fn one_row_per_time_one_column_per_series() {
        let mut h = History::default();
        h.push(&tel(100.0, &[("temp", 21.5), ("hum", 40.0)]), 0.0);
        h.push(&tel(200.0, &[("temp", 21.6)]), 0.0);
        h.push(&tel(250.0, &[("hum", 41.0), ("volts, main", 7.4)]), 0.0);
        assert_eq!(to_csv(&h), "time_ms,temp,hum,\"volts, main\"\n100,21.5,40,\n200,21.6,,\n250,,41,7.4\n");
    }

    #[test]
    fn empty_history_is_just_the_header() {
        assert_eq!(to_csv(&History::default()), "time_ms\n");
    }

    #[test]
    fn repeated_times_of_one_series_make_separate_rows() {
        let mut h = History::default();
        h.push(&tel(5.0, &[("a", 1.0)]), 0.0);
        h.push(&tel(5.0, &[("a", 2.0)]), 0.0);
        assert_eq!(to_csv(&h), "time_ms,a\n5,1\n5,2\n");
    }
}

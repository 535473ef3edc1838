//! CSV export of the buffered data: one row per time stamp, one column per charted series,
//! empty where a series has no sample at that time or reported a gap. Times are the chart's
//! (device ms, or arrival ms). Fields are quoted as RFC 4180 says, so any series name survives.

use crate::series::SeriesSet;

pub fn to_csv(set: &SeriesSet) -> String {
    let names: Vec<&str> = set.charted().collect();
    let mut samples: Vec<(f64, usize, f64)> = Vec::new();
    for (col, name) in names.iter().enumerate() {
        if let Some(ring) = set.ring(name) {
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
            // A gap (NaN) stays an empty field, never a number.
            if let Some(v) = v.take().filter(|v| !v.is_nan()) {
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

/// A field as RFC 4180 wants it: quoted when it holds a comma, a quote or a line break, with
/// quotes doubled.
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
    use wsdeck_protocol::{Reading, Telemetry};

    fn tel(ms: f64, values: &[(&str, Reading)]) -> Telemetry {
        Telemetry {
            ms: Some(ms),
            values: values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            ..Telemetry::default()
        }
    }

    fn num(v: f64) -> Reading {
        Reading::Num(v)
    }

    /// Reads CSV back as RFC 4180 says, the way a spreadsheet would.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
        let (mut quoted, mut chars) = (false, text.chars().peekable());
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\n') => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => field.push(c),
            }
        }
        rows
    }

    #[test]
    fn one_row_per_time_one_column_per_series() {
        let mut s = SeriesSet::default();
        s.push(tel(100.0, &[("temp", num(21.5)), ("hum", num(40.0))]), 0.0);
        s.push(tel(200.0, &[("temp", num(21.6))]), 0.0);
        s.push(tel(250.0, &[("hum", num(41.0)), ("volts, main", num(7.4))]), 0.0);
        assert_eq!(to_csv(&s), "time_ms,temp,hum,\"volts, main\"\n100,21.5,40,\n200,21.6,,\n250,,41,7.4\n");
    }

    #[test]
    fn empty_history_is_just_the_header() {
        assert_eq!(to_csv(&SeriesSet::default()), "time_ms\n");
    }

    #[test]
    fn repeated_times_of_one_series_make_separate_rows() {
        let mut s = SeriesSet::default();
        s.push(tel(5.0, &[("a", num(1.0))]), 0.0);
        s.push(tel(5.0, &[("a", num(2.0))]), 0.0);
        assert_eq!(to_csv(&s), "time_ms,a\n5,1\n5,2\n");
    }

    #[test]
    fn a_gap_is_an_empty_field_on_off_is_0_or_1_text_is_left_out() {
        let mut s = SeriesSet::default();
        s.push(
            tel(
                1.0,
                &[("t", num(21.5)), ("pump", Reading::Bool(true)), ("state", Reading::Text("IDLE".into()))],
            ),
            0.0,
        );
        s.push(tel(2.0, &[("t", Reading::Gap), ("pump", Reading::Bool(false))]), 0.0);
        assert_eq!(to_csv(&s), "time_ms,t,pump\n1,21.5,1\n2,,0\n");
    }

    #[test]
    fn any_name_round_trips_through_a_csv_reader() {
        let names = [
            "left wheel",
            "battery (V)",
            "bme280.t",
            "a,b",
            "say \"hi\"",
            "\"",
            "line\nbreak",
            "cr\r\nlf",
            "🔋 level",
            "温度",
            "a",
            "a_2",
        ];
        let mut s = SeriesSet::default();
        let values: Vec<(&str, Reading)> =
            names.iter().enumerate().map(|(i, n)| (*n, num(i as f64))).collect();
        s.push(tel(7.0, &values), 0.0);
        let rows = parse(&to_csv(&s));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], "time_ms");
        assert_eq!(&rows[0][1..], names.map(String::from));
        let expect: Vec<String> = (0..names.len()).map(|i| i.to_string()).collect();
        assert_eq!(&rows[1][1..], expect.as_slice());
    }
}

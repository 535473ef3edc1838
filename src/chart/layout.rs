//! Which charts the Charts page shows and what each holds: series in one group share a chart,
//! the others get one of their own. The device proposes groups (`hello.series.*.group`); the
//! person can hide series, reorder them and regroup them, and that choice is kept per device.

/// What the person chose for one series. Series without an entry follow the device.
#[derive(Debug, Clone, PartialEq, Default)]
struct Pref {
    name: String,
    /// `None`: the device's group. `Some("")`: a chart of its own. `Some(g)`: group `g`.
    group: Option<String>,
    hidden: bool,
}

/// The person's arrangement for one device: order, groups and hidden series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prefs {
    /// In the person's order; series that appear later go after these, in arrival order.
    entries: Vec<Pref>,
}

/// One chart: its series, in order. `key` stays the same while its series do not change group.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    pub key: String,
    pub series: Vec<String>,
}

/// The groups the device proposed in its hello: `(series, group)`.
pub type Groups = [(String, String)];

fn device_group<'a>(groups: &'a Groups, name: &str) -> Option<&'a str> {
    groups.iter().find(|(n, _)| n == name).map(|(_, g)| g.as_str())
}

/// At most this many series are remembered per device (the page charts at most 64).
const MAX_ENTRIES: usize = 64;

/// A name as one field of a stored line: `\\`, `\t`, `\n`, `\r` for what would split it.
fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

impl Prefs {
    /// Reads what [`Prefs::serialize`] wrote: a line per series, `name \t group \t hidden`, with
    /// backslash, tab and line breaks in names escaped. Anything unreadable is skipped: stored
    /// text is never trusted to be well formed.
    pub fn parse(text: &str) -> Prefs {
        let mut entries: Vec<Pref> = Vec::new();
        for line in text.lines() {
            let mut parts = line.split('\t');
            let (Some(name), Some(group), Some(hidden)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let name = unescape(name);
            if name.is_empty() || entries.iter().any(|e| e.name == name) || entries.len() >= MAX_ENTRIES {
                continue;
            }
            let group = match group {
                "*" => None,
                g => Some(unescape(g.strip_prefix('=').unwrap_or(g))),
            };
            entries.push(Pref { name, group, hidden: hidden == "1" });
        }
        Prefs { entries }
    }

    pub fn serialize(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let group = match &e.group {
                None => "*".to_string(),
                Some(g) => format!("={}", escape(g)),
            };
            out.push_str(&format!("{}\t{}\t{}\n", escape(&e.name), group, if e.hidden { 1 } else { 0 }));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn is_hidden(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name && e.hidden)
    }

    /// Every series in the person's order: remembered ones first, then the rest as they came.
    pub fn ordered(&self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> =
            self.entries.iter().filter(|e| names.contains(&e.name)).map(|e| e.name.clone()).collect();
        let rest: Vec<String> = names.iter().filter(|n| !out.contains(n)).cloned().collect();
        out.extend(rest);
        out
    }

    /// The group a series is charted in: the person's choice, else the device's; `None` = alone.
    pub fn group_of(&self, name: &str, device_group: Option<&str>) -> Option<String> {
        match self.entries.iter().find(|e| e.name == name).and_then(|e| e.group.clone()) {
            Some(g) if g.is_empty() => None,
            Some(g) => Some(g),
            None => device_group.filter(|g| !g.is_empty()).map(str::to_string),
        }
    }

    /// The charts to draw, in order, for the visible series among `names`.
    pub fn charts(&self, names: &[String], groups: &Groups) -> Vec<ChartSpec> {
        let mut charts: Vec<ChartSpec> = Vec::new();
        for name in self.ordered(names) {
            if self.is_hidden(&name) {
                continue;
            }
            let key = match self.group_of(&name, device_group(groups, &name)) {
                Some(g) => format!("group:{g}"),
                None => format!("series:{name}"),
            };
            match charts.iter_mut().find(|c| c.key == key) {
                Some(c) => c.series.push(name),
                None => charts.push(ChartSpec { key, series: vec![name] }),
            }
        }
        charts
    }

    fn entry(&mut self, name: &str, names: &[String]) -> &mut Pref {
        // Remember the whole current order first, so that moving one series keeps the others put.
        for n in self.ordered(names) {
            if !self.entries.iter().any(|e| e.name == n) && self.entries.len() < MAX_ENTRIES {
                self.entries.push(Pref { name: n, ..Pref::default() });
            }
        }
        let i = match self.entries.iter().position(|e| e.name == name) {
            Some(i) => i,
            None => {
                if self.entries.len() >= MAX_ENTRIES {
                    self.entries.remove(0);
                }
                self.entries.push(Pref { name: name.to_string(), ..Pref::default() });
                self.entries.len() - 1
            }
        };
        &mut self.entries[i]
    }

    pub fn toggle_hidden(&mut self, name: &str, names: &[String]) {
        let e = self.entry(name, names);
        e.hidden = !e.hidden;
    }

    /// Moves a series one place earlier (`up`) or later, far enough that the picture changes: past
    /// a whole chart, or within its own shared chart.
    pub fn move_by(&mut self, name: &str, up: bool, names: &[String], groups: &Groups) {
        let before = self.charts(names, groups);
        for _ in 0..names.len() {
            let order = self.ordered(names);
            self.step(name, if up { -1 } else { 1 }, names);
            if self.charts(names, groups) != before || self.ordered(names) == order {
                return;
            }
        }
    }

    /// Moves a series `by` places in the order (negative: earlier), within bounds.
    fn step(&mut self, name: &str, by: isize, names: &[String]) {
        self.entry(name, names);
        let order: Vec<String> = self.ordered(names);
        let Some(from) = order.iter().position(|n| n == name) else { return };
        let to = (from as isize + by).clamp(0, order.len() as isize - 1) as usize;
        let (a, b) = (order[from].clone(), order[to].clone());
        let ia = self.entries.iter().position(|e| e.name == a);
        let ib = self.entries.iter().position(|e| e.name == b);
        if let (Some(ia), Some(ib)) = (ia, ib) {
            // Rotate rather than swap, so that a move past several hidden series reads naturally.
            let item = self.entries.remove(ia);
            self.entries.insert(ib.min(self.entries.len()), item);
        }
    }

    /// Charts `name` on its own.
    pub fn set_alone(&mut self, name: &str, names: &[String]) {
        self.entry(name, names).group = Some(String::new());
    }

    /// Charts `name` together with `other` (and whatever already shares `other`'s chart).
    pub fn join(&mut self, name: &str, other: &str, names: &[String], groups: &Groups) {
        if name == other {
            return;
        }
        let group = self.group_of(other, device_group(groups, other)).unwrap_or_else(|| other.to_string());
        self.entry(other, names).group = Some(group.clone());
        self.entry(name, names).group = Some(group);
    }

    /// Back to what the device proposes, everything shown.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn device() -> Vec<(String, String)> {
        [("wl", "wheels"), ("wr", "wheels"), ("temp", "env")]
            .iter()
            .map(|(n, g)| (n.to_string(), g.to_string()))
            .collect()
    }

    fn shape(charts: &[ChartSpec]) -> Vec<Vec<&str>> {
        charts.iter().map(|c| c.series.iter().map(String::as_str).collect()).collect()
    }

    #[test]
    fn series_in_one_group_share_a_chart_the_others_get_their_own() {
        let p = Prefs::default();
        let all = names(&["batt", "wl", "temp", "wr", "dist"]);
        let charts = p.charts(&all, &device());
        assert_eq!(shape(&charts), [vec!["batt"], vec!["wl", "wr"], vec!["temp"], vec!["dist"]]);
        assert_eq!(charts[1].key, "group:wheels");
        assert_eq!(charts[0].key, "series:batt");
    }

    #[test]
    fn hiding_removes_a_series_and_an_emptied_chart() {
        let mut p = Prefs::default();
        let all = names(&["batt", "wl", "wr"]);
        p.toggle_hidden("batt", &all);
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["wl", "wr"]]);
        p.toggle_hidden("wl", &all);
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["wr"]]);
        p.toggle_hidden("batt", &all);
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["batt"], vec!["wr"]]);
    }

    #[test]
    fn reordering_moves_one_series_and_keeps_the_rest() {
        let mut p = Prefs::default();
        let all = names(&["a", "b", "c", "d"]);
        p.move_by("c", true, &all, &[]);
        assert_eq!(p.ordered(&all), ["a", "c", "b", "d"]);
        for _ in 0..5 {
            p.move_by("a", false, &all, &[]);
        }
        assert_eq!(p.ordered(&all), ["c", "b", "d", "a"]);
        p.move_by("c", true, &all, &[]);
        assert_eq!(p.ordered(&all), ["c", "b", "d", "a"], "the first stays first");
        // A series that appears later goes last.
        let more = names(&["a", "b", "c", "d", "e"]);
        assert_eq!(p.ordered(&more), ["c", "b", "d", "a", "e"]);
    }

    #[test]
    fn a_move_passes_a_whole_shared_chart_or_reorders_inside_it() {
        let mut p = Prefs::default();
        let all = names(&["batt", "wl", "wr", "dist"]);
        p.move_by("dist", true, &all, &device());
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["batt"], vec!["dist"], vec!["wl", "wr"]]);
        p.move_by("wr", true, &all, &device());
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["batt"], vec!["dist"], vec!["wr", "wl"]]);
    }

    #[test]
    fn regrouping_overrides_the_device() {
        let mut p = Prefs::default();
        let all = names(&["batt", "wl", "wr", "dist"]);
        p.set_alone("wr", &all);
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["batt"], vec!["wl"], vec!["wr"], vec!["dist"]]);
        // Joining a series that has no group makes a group of the two.
        p.join("dist", "batt", &all, &device());
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["batt", "dist"], vec!["wl"], vec!["wr"]]);
        // Joining a grouped series joins its group.
        p.join("wr", "wl", &all, &device());
        assert_eq!(shape(&p.charts(&all, &device())), [vec!["batt", "dist"], vec!["wl", "wr"]]);
        p.reset();
        assert_eq!(p.charts(&all, &device()).len(), 3);
    }

    #[test]
    fn survives_a_round_trip_through_storage_and_ignores_junk() {
        let mut p = Prefs::default();
        let all = names(&["a", "b", "c"]);
        p.move_by("c", true, &all, &[]);
        p.move_by("c", true, &all, &[]);
        p.toggle_hidden("b", &all);
        p.join("a", "c", &all, &[]);
        p.set_alone("b", &all);
        let text = p.serialize();
        assert_eq!(Prefs::parse(&text), p);
        let junk = format!("garbage\n\t\t\nx\ty\n{text}a\t=zzz\t0\n");
        assert_eq!(Prefs::parse(&junk), p, "unreadable lines and duplicates are skipped");
        assert_eq!(Prefs::parse(""), Prefs::default());
    }

    #[test]
    fn any_name_survives_storage() {
        let all = names(&[
            "left wheel",
            "battery (V)",
            "a.b",
            "say \"hi\"",
            "tab\there",
            "line\nbreak",
            "back\\slash\\t",
            "🔋",
            "温度",
            "=x",
            "*",
            "group:x",
        ]);
        let mut p = Prefs::default();
        p.toggle_hidden("tab\there", &all);
        p.join("line\nbreak", "say \"hi\"", &all, &[]);
        p.join("🔋", "温度", &all, &[]);
        p.move_by("back\\slash\\t", true, &all, &[]);
        p.set_alone("=x", &all);
        let back = Prefs::parse(&p.serialize());
        assert_eq!(back, p);
        assert_eq!(back.charts(&all, &[]), p.charts(&all, &[]));
        assert_eq!(back.serialize().lines().count(), all.len(), "one line per series, whatever its name");
        assert!(back.is_hidden("tab\there"));
        let charts = back.charts(&all, &[]);
        let shared: Vec<Vec<&str>> = shape(&charts).into_iter().filter(|c| c.len() > 1).collect();
        assert_eq!(shared, [vec!["say \"hi\"", "line\nbreak"], vec!["🔋", "温度"]]);
    }

    #[test]
    fn a_layout_stored_before_escaping_still_reads() {
        let old = "c\t=c\t0\na\t=c\t0\nb\t=\t1\n";
        let p = Prefs::parse(old);
        let all = names(&["a", "b", "c"]);
        assert_eq!(shape(&p.charts(&all, &[])), [vec!["c", "a"]]);
        assert_eq!(p.serialize(), old);
    }
}

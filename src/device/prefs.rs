//! What the app remembers about each device, keyed by its address (the WebSocket URL, as pairing
//! tokens are): whether it takes plain words and which, extra words shown as buttons on the Drive
//! page (and on the Controls page of a device that declares no controls), and a message sent each
//! time the socket opens. Plain Rust but for [`load`] and [`save`].

use crate::dom;
use crate::drive::controller::Dialect;

/// The word sets of the common tutorial cars, offered in Settings with one tap.
pub const WORD_SETS: [[&str; 5]; 2] =
    [["up", "down", "left", "right", "stop"], ["forward", "reverse", "left", "right", "stop"]];
/// Longest word, in characters (a command, not a sentence).
pub const MAX_WORD_CHARS: usize = 32;
/// More buttons than this would not fit a phone's width at 44 px each.
pub const MAX_EXTRA_WORDS: usize = 8;
/// Longest "send on connect" message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 256;
/// A stored entry longer than this was not written by this app: ignored whole.
const MAX_STORED: usize = 2048;

/// The one set of words for every device, before words were kept per device.
const LEGACY_WORDS: &str = "wsdeck.drive.words";

fn key(url: &str) -> String {
    format!("wsdeck.device.{url}")
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DevicePrefs {
    /// The person chose how this device is driven. Until then it gets protocol v1 frames, and
    /// Settings may offer plain words ([`offers_words`]).
    pub chosen: bool,
    /// `Some`: the device takes these words for up, down, left, right and stop.
    pub words: Option<[String; 5]>,
    /// Words sent as they are when tapped on the Drive page (speed presets, lights, horn), and on
    /// the Controls page when the device declares no controls of its own.
    pub extra: Vec<ExtraWord>,
    /// Sent as it is each time the socket opens: some firmware waits for a word such as
    /// `getReadings` before it sends anything.
    pub on_connect: Option<String>,
}

/// One extra word: the text sent as it is, and the button's label (the word itself unless the
/// person named it: `Lights=toggle`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraWord {
    pub label: String,
    pub word: String,
}

impl ExtraWord {
    /// `Lights=toggle` (label, word), or a bare word that is its own label.
    fn parse(s: &str) -> Option<ExtraWord> {
        match s.split_once('=') {
            Some((label, w)) => Some(ExtraWord { label: word(label)?, word: word(w)? }),
            None => word(s).map(|w| ExtraWord { label: w.clone(), word: w }),
        }
    }
}

/// The extra words as the form and the stored entry write them: `Lights=toggle, 1s50`.
pub fn extra_text(extra: &[ExtraWord], sep: &str) -> String {
    let mut out = String::new();
    for w in extra {
        if !out.is_empty() {
            out.push_str(sep);
        }
        if w.label != w.word {
            out.push_str(&w.label);
            out.push('=');
        }
        out.push_str(&w.word);
    }
    out
}

/// A field of the Settings form that cannot be kept as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefsError {
    Words,
    Extra,
    Message,
}

impl PrefsError {
    pub fn text(self) -> &'static str {
        match self {
            PrefsError::Words => "Give five words, separated by commas: up, down, left, right, stop.",
            PrefsError::Extra => {
                "Extra words: at most 8, separated by commas, each up to 32 characters (label=text)."
            }
            PrefsError::Message => "The message sent on connect: one line, up to 256 characters.",
        }
    }
}

impl DevicePrefs {
    pub fn dialect(&self) -> Dialect {
        self.words.clone().map_or(Dialect::Json, Dialect::Words)
    }

    /// These prefs as the Settings form changed them: the words dialect or not, the five words,
    /// the extra words and the message (blank for none). Turning words on chooses the dialect;
    /// saving the form with them off keeps the question open if it was.
    pub fn from_form(
        &self,
        words_on: bool,
        words: &str,
        extra: &str,
        on_connect: &str,
    ) -> Result<DevicePrefs, PrefsError> {
        let words = match words_on {
            true => Some(parse_words(words).ok_or(PrefsError::Words)?),
            false => None,
        };
        Ok(DevicePrefs {
            chosen: self.chosen || words_on,
            words,
            extra: parse_extra(extra).ok_or(PrefsError::Extra)?,
            on_connect: parse_message(on_connect).ok_or(PrefsError::Message)?,
        })
    }

    /// Reads a stored entry: one `name=value` line per field. Whatever is unreadable (edited by
    /// hand, from a later version, hostile) is left out; a `words` dialect whose words are
    /// unreadable keeps the first common set, so that the car does not get JSON it cannot read.
    pub fn parse(stored: &str) -> DevicePrefs {
        let mut prefs = DevicePrefs::default();
        if stored.len() > MAX_STORED {
            return prefs;
        }
        let mut words_on = false;
        let mut words = None;
        for line in stored.lines() {
            let Some((name, value)) = line.split_once('=') else { continue };
            match name {
                "dialect" => match value {
                    "json" => (prefs.chosen, words_on) = (true, false),
                    "words" => (prefs.chosen, words_on) = (true, true),
                    _ => {}
                },
                "words" => words = parse_words(value),
                "extra" => prefs.extra = parse_extra(value).unwrap_or_default(),
                "on_connect" => prefs.on_connect = parse_message(value).flatten(),
                _ => {}
            }
        }
        if words_on {
            prefs.words = Some(words.unwrap_or_else(|| WORD_SETS[0].map(String::from)));
        }
        prefs
    }

    /// The stored entry, or `None` when there is nothing to remember.
    pub fn serialize(&self) -> Option<String> {
        if *self == DevicePrefs::default() {
            return None;
        }
        let mut out = String::new();
        if self.chosen {
            out.push_str(if self.words.is_some() { "dialect=words\n" } else { "dialect=json\n" });
        }
        if let Some(words) = &self.words {
            out.push_str(&format!("words={}\n", words.join(",")));
        }
        if !self.extra.is_empty() {
            out.push_str(&format!("extra={}\n", extra_text(&self.extra, ",")));
        }
        if let Some(message) = &self.on_connect {
            out.push_str(&format!("on_connect={message}\n"));
        }
        Some(out)
    }
}

/// A word as typed: trimmed, not empty, one line, at most [`MAX_WORD_CHARS`].
fn word(s: &str) -> Option<String> {
    let w = s.trim();
    let fits = !w.is_empty() && w.chars().count() <= MAX_WORD_CHARS && !w.chars().any(char::is_control);
    fits.then(|| w.to_string())
}

/// `up,down,left,right,stop`: five words, commas between.
pub fn parse_words(s: &str) -> Option<[String; 5]> {
    let words: Vec<String> = s.split(',').map(word).collect::<Option<_>>()?;
    words.try_into().ok()
}

/// `slow-speed, Lights=toggle, 1s50`: up to [`MAX_EXTRA_WORDS`] words, each maybe with a label;
/// blank for none.
pub fn parse_extra(s: &str) -> Option<Vec<ExtraWord>> {
    if s.trim().is_empty() {
        return Some(Vec::new());
    }
    let words: Vec<ExtraWord> = s.split(',').map(ExtraWord::parse).collect::<Option<_>>()?;
    (words.len() <= MAX_EXTRA_WORDS).then_some(words)
}

/// The "send on connect" message: `Some(None)` when blank, `None` when it cannot be kept.
pub fn parse_message(s: &str) -> Option<Option<String>> {
    let m = s.trim();
    if m.is_empty() {
        return Some(None);
    }
    let fits = m.chars().count() <= MAX_MESSAGE_CHARS && !m.chars().any(char::is_control);
    fits.then(|| Some(m.to_string()))
}

/// Settings asks "This device takes plain words?" of a device that never showed it speaks
/// protocol v1 and sends frames that are not JSON (`OK` replies, `temp=21.5`), until the person
/// chose either way.
pub fn offers_words(speaks_v1: bool, not_json: u64, quick_closes: u32, prefs: &DevicePrefs) -> bool {
    // Text that is not JSON (its `OK`s), or a device that drops the link right after the app's
    // first frame (a tutorial handler raising on JSON drive frames): most likely a words car.
    !speaks_v1 && (not_json > 0 || quick_closes > 0) && !prefs.chosen
}

/// The prefs of a device from its stored entry and the old global words. The first device opened
/// after words became per device takes the old words (it is most likely the car they were set
/// for); the second value says to save them for it.
pub fn migrate(stored: Option<&str>, legacy_words: Option<&str>) -> (DevicePrefs, bool) {
    if let Some(stored) = stored {
        return (DevicePrefs::parse(stored), false);
    }
    match legacy_words.and_then(parse_words) {
        Some(words) => (DevicePrefs { chosen: true, words: Some(words), ..DevicePrefs::default() }, true),
        None => (DevicePrefs::default(), false),
    }
}

/// The prefs of the device at `url` (its WebSocket address). Call it on every socket open for
/// [`DevicePrefs::on_connect`]; it also moves the old global words to the first device it sees.
pub fn load(url: &str) -> DevicePrefs {
    let legacy = dom::storage_get(LEGACY_WORDS);
    let (prefs, adopted) = migrate(dom::storage_get(&key(url)).as_deref(), legacy.as_deref());
    if adopted {
        save(url, &prefs);
    }
    if legacy.is_some() {
        dom::storage_set(LEGACY_WORDS, None);
    }
    prefs
}

pub fn save(url: &str, prefs: &DevicePrefs) {
    dom::storage_set(&key(url), prefs.serialize().as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: [&str; 5]) -> Option<[String; 5]> {
        Some(w.map(String::from))
    }

    fn car() -> DevicePrefs {
        DevicePrefs {
            chosen: true,
            words: words(WORD_SETS[1]),
            extra: parse_extra("slow-speed,normal-speed,fast-speed").unwrap(),
            on_connect: Some("getReadings".into()),
        }
    }

    #[test]
    fn what_is_saved_is_read_back() {
        let prefs = car();
        let stored = prefs.serialize().unwrap();
        assert_eq!(
            stored,
            "dialect=words\nwords=forward,reverse,left,right,stop\n\
             extra=slow-speed,normal-speed,fast-speed\non_connect=getReadings\n"
        );
        assert_eq!(DevicePrefs::parse(&stored), prefs);
        assert_eq!(prefs.dialect(), Dialect::Words(WORD_SETS[1].map(String::from)));
        let json = DevicePrefs { chosen: true, ..DevicePrefs::default() };
        assert_eq!(DevicePrefs::parse(&json.serialize().unwrap()), json);
        assert_eq!(json.dialect(), Dialect::Json);
        assert_eq!(DevicePrefs::default().serialize(), None, "nothing to remember: the key goes");
        // A message may hold `=` and commas (a JSON command for a device that wants one).
        let cmd = DevicePrefs { on_connect: Some(r#"{"cmd":"start","a":1}=x"#.into()), ..car() };
        assert_eq!(DevicePrefs::parse(&cmd.serialize().unwrap()), cmd);
    }

    #[test]
    fn the_form_is_read_as_typed_and_refused_when_it_cannot_be_kept() {
        let new = DevicePrefs::default();
        let prefs = new.from_form(true, " F, B ,L,R, S ", "slow , fast", "  getReadings ").unwrap();
        assert_eq!(prefs.words, words(["F", "B", "L", "R", "S"]));
        assert!(prefs.chosen);
        assert_eq!(extra_text(&prefs.extra, ","), "slow,fast");
        // A button may be named: its label shows, its text is sent.
        let named = new.from_form(false, "", " Lights = toggle, 1s50", "").unwrap();
        let lights = ExtraWord { label: "Lights".into(), word: "toggle".into() };
        assert_eq!(named.extra, [lights, ExtraWord { label: "1s50".into(), word: "1s50".into() }]);
        assert_eq!(DevicePrefs::parse(&named.serialize().unwrap()), named);
        assert_eq!(named.serialize().unwrap(), "extra=Lights=toggle,1s50\n");
        assert_eq!(new.from_form(false, "", "Lights=", ""), Err(PrefsError::Extra), "a label needs its text");
        assert_eq!(prefs.on_connect.as_deref(), Some("getReadings"));
        let plain = new.from_form(false, "anything", "", " ").unwrap();
        assert_eq!(plain, DevicePrefs::default(), "only the rate saved: the question stays open");
        let back = prefs.from_form(false, "", "", "").unwrap();
        assert_eq!(back, DevicePrefs { chosen: true, ..DevicePrefs::default() }, "words turned off: chosen");
        assert_eq!(new.from_form(true, "up,down", "", ""), Err(PrefsError::Words));
        assert_eq!(new.from_form(true, "up,down,left,right,", "", ""), Err(PrefsError::Words));
        assert_eq!(new.from_form(false, "", "a,,b", ""), Err(PrefsError::Extra));
        assert_eq!(new.from_form(false, "", &["w"; 9].join(","), ""), Err(PrefsError::Extra));
        assert_eq!(new.from_form(false, "", "", &"m".repeat(257)), Err(PrefsError::Message));
    }

    #[test]
    fn words_need_all_five_and_fit_on_one_line() {
        assert!(parse_words("up,down,left,right,stop").is_some());
        assert!(parse_words("go ahead,back up,left,right,stop").is_some(), "spaces inside a word");
        assert!(parse_words("up,down,left,right,").is_none());
        assert!(parse_words("up,down,left,right,stop,jump").is_none());
        assert!(parse_words("up,down,left,right,st\nop").is_none());
        assert!(parse_words(&format!("up,down,left,right,{}", "s".repeat(33))).is_none());
        assert!(parse_words("前,後,左,右,停").is_some(), "any script");
        assert_eq!(parse_extra(" "), Some(Vec::new()));
        assert_eq!(parse_extra("horn"), Some(vec![ExtraWord { label: "horn".into(), word: "horn".into() }]));
    }

    #[test]
    fn hostile_or_foreign_storage_is_left_out_never_trusted() {
        let d = DevicePrefs::default();
        assert_eq!(DevicePrefs::parse(""), d);
        assert_eq!(DevicePrefs::parse("garbage\n\u{0}\u{ffff}=\n==="), d);
        assert_eq!(DevicePrefs::parse(&"extra=a\n".repeat(1000)), d, "too long: not ours");
        assert_eq!(DevicePrefs::parse("dialect=maybe\nwords=a,b,c,d,e"), d, "words without the dialect");
        // Words dialect with broken words: the car still gets words, never JSON.
        assert_eq!(DevicePrefs::parse("dialect=words\nwords=up").words, words(WORD_SETS[0]));
        let odd = DevicePrefs::parse(&format!(
            "dialect=json\nextra={}\non_connect={}\ncolour=red",
            ["x"; 20].join(","),
            "m".repeat(300)
        ));
        assert_eq!(odd, DevicePrefs { chosen: true, ..d }, "unreadable fields go, the rest stays");
    }

    #[test]
    fn the_old_global_words_go_to_the_first_device_opened() {
        let (prefs, save) = migrate(None, Some("F,B,L,R,S"));
        assert!(save);
        assert_eq!(
            prefs,
            DevicePrefs { chosen: true, words: words(["F", "B", "L", "R", "S"]), ..Default::default() }
        );
        // A device that has its own prefs keeps them.
        let stored = car().serialize().unwrap();
        assert_eq!(migrate(Some(&stored), Some("F,B,L,R,S")), (car(), false));
        // No old words, or unreadable ones: nothing to move.
        assert_eq!(migrate(None, None), (DevicePrefs::default(), false));
        assert_eq!(migrate(None, Some("up,down")), (DevicePrefs::default(), false));
    }

    #[test]
    fn plain_words_are_offered_to_a_device_that_sends_text_and_never_said_hello() {
        let d = DevicePrefs::default();
        assert!(offers_words(false, 3, 0, &d), "a tutorial car answering OK");
        assert!(!offers_words(false, 0, 0, &d), "nothing but JSON (or nothing) yet");
        assert!(offers_words(false, 0, 2, &d), "it drops the link at once: a handler raising on JSON");
        assert!(!offers_words(true, 3, 0, &d), "it speaks protocol v1: a stray text frame means nothing");
        assert!(!offers_words(false, 3, 0, &car()), "the person chose already");
        let json = DevicePrefs { chosen: true, ..d };
        assert!(!offers_words(false, 3, 0, &json), "the person said no");
    }
}

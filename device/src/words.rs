//! The text dialect of tutorial cars: one word per frame (`forward`, `left`, `stop` ...), as
//! the app's "plain words" setting sends them (docs/COMPATIBILITY.md).

use wsdeck_protocol::FULL;

const F: i16 = FULL;

/// The wheel commands a word asks for, -1000..=1000 each; `None` for a word it does not know.
pub fn wheels(word: &str) -> Option<(i16, i16)> {
    let word = word.trim();
    let is = |w: &str| word.eq_ignore_ascii_case(w);
    if ["up", "forward", "f"].iter().any(|w| is(w)) {
        Some((F, F))
    } else if ["down", "back", "backward", "b"].iter().any(|w| is(w)) {
        Some((-F, -F))
    } else if ["left", "l"].iter().any(|w| is(w)) {
        Some((-F, F))
    } else if ["right", "r"].iter().any(|w| is(w)) {
        Some((F, -F))
    } else if ["stop", "s"].iter().any(|w| is(w)) {
        Some((0, 0))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_tutorial_cars() {
        assert_eq!(wheels("up"), Some((1000, 1000)));
        assert_eq!(wheels(" STOP\n"), Some((0, 0)));
        assert_eq!(wheels("left"), Some((-1000, 1000)));
        assert_eq!(wheels("Backward"), Some((-1000, -1000)));
        assert_eq!(wheels("jump"), None);
        assert_eq!(wheels(""), None);
    }
}

//! A small ESC/POS encoder: the handful of commands a kitchen ticket needs
//! (Epson's ESC/POS command reference; every thermal printer that "speaks
//! ESC/POS" knows these), and text in code page PC858.
//!
//! Why not a crate: `escpos` (the maintained one) encodes text through
//! `encoding_rs`, whose tables for every WHATWG encoding would cost more
//! than the static binary's whole remaining budget, and WHATWG has no DOS
//! code page such as PC858 anyway; its drivers are blocking. Ours is a
//! byte buffer and one 128-character table.
//!
//! Text: PC858 (`ESC t 19`) is Latin-1's repertoire plus `€` (CP850 with
//! the euro): German, French, Spanish, Italian, Portuguese, Dutch and the
//! Nordic languages print as written. Latin Extended-A (Polish, Czech,
//! Hungarian, Turkish, Croatian, Romanian, …) prints without its accents
//! (`ł` → `l`, `č` → `c`); typographic quotes and dashes print as their
//! ASCII look-alikes; anything else (Greek, Cyrillic, CJK, emoji) prints
//! as `?`. Printing such text as an image is not done.

/// `ESC t n` number of PC858 in Epson's table.
const PC858: u8 = 19;

/// PC858 bytes 0x80–0xFF.
const PC858_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈ€ÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u{ad}±‗¾¶§÷¸°¨·¹³²■\u{a0}";

/// U+0100–U+017F (Latin Extended-A) without accents.
const LATIN_EXT_A: &str = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

/// Appends `c` as PC858 bytes (or its readable stand-in).
fn push_char(out: &mut Vec<u8>, c: char) {
    if c.is_ascii() {
        // Control characters would be printer commands: never from text.
        out.push(if c.is_ascii_control() { b' ' } else { c as u8 });
        return;
    }
    if let Some((byte, _)) = (0x80..=0xFF).zip(PC858_HIGH.chars()).find(|&(_, h)| h == c) {
        out.push(byte);
        return;
    }
    let code = u32::from(c);
    if (0x100..0x180).contains(&code) {
        let base = LATIN_EXT_A.as_bytes()[(code - 0x100) as usize];
        out.push(base);
        return;
    }
    let stand_in: &str = match c {
        '‘' | '’' | '‚' | '′' => "'",
        '“' | '”' | '„' | '″' => "\"",
        '‐' | '‑' | '‒' | '–' | '—' | '−' => "-",
        '…' => "...",
        '•' | '·' => "*",
        '\u{2009}' | '\u{202f}' | '\u{200b}' => " ",
        'ș' | 'ş' => "s",
        'Ș' | 'Ş' => "S",
        'ț' | 'ţ' => "t",
        'Ț' | 'Ţ' => "T",
        _ => "?",
    };
    out.extend_from_slice(stand_in.as_bytes());
}

/// How text is laid out on the paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Font A, 42 characters on 80 mm paper.
    Normal,
    /// Double width and height (`GS ! 0x11`): the order number.
    Large,
}

/// A ticket being encoded.
#[derive(Debug)]
pub struct Escpos {
    out: Vec<u8>,
    /// Characters per line at normal size.
    pub width: usize,
}

impl Escpos {
    /// Starts a document: `ESC @` (initialise), `ESC t 19` (PC858).
    pub fn new(width: usize) -> Escpos {
        Escpos {
            out: vec![0x1B, b'@', 0x1B, b't', PC858],
            width: width.max(16),
        }
    }

    /// `ESC E n`: bold on or off.
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.out.extend_from_slice(&[0x1B, b'E', u8::from(on)]);
        self
    }

    /// `ESC a n`: centred or left-aligned.
    pub fn center(&mut self, on: bool) -> &mut Self {
        self.out.extend_from_slice(&[0x1B, b'a', u8::from(on)]);
        self
    }

    /// `GS ! n`: character size.
    pub fn size(&mut self, size: Size) -> &mut Self {
        let n = match size {
            Size::Normal => 0x00,
            Size::Large => 0x11,
        };
        self.out.extend_from_slice(&[0x1D, b'!', n]);
        self
    }

    /// One line of text, wrapped at the paper's width (`indent` spaces
    /// before continuation lines), each ending in `LF`.
    pub fn line(&mut self, text: &str, indent: usize) -> &mut Self {
        let mut column = 0;
        for word in text.split(' ') {
            let len = word.chars().count();
            if column > 0 && column + 1 + len > self.width {
                self.out.push(b'\n');
                self.out.extend(std::iter::repeat_n(b' ', indent));
                column = indent;
            } else if column > 0 {
                self.out.push(b' ');
                column += 1;
            }
            for c in word.chars() {
                if column >= self.width {
                    self.out.push(b'\n');
                    self.out.extend(std::iter::repeat_n(b' ', indent));
                    column = indent;
                }
                push_char(&mut self.out, c);
                column += 1;
            }
        }
        self.out.push(b'\n');
        self
    }

    /// A line of `-` across the paper.
    pub fn rule(&mut self) -> &mut Self {
        self.out.extend(std::iter::repeat_n(b'-', self.width));
        self.out.push(b'\n');
        self
    }

    /// Feeds to the cutter and cuts (`GS V 66 0`: partial cut after feeding),
    /// and returns the bytes.
    pub fn cut(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0x1D, b'V', 66, 0]);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for c in s.chars() {
            push_char(&mut out, c);
        }
        out
    }

    #[test]
    fn the_tables_have_one_entry_per_byte() {
        assert_eq!(PC858_HIGH.chars().count(), 128);
        assert_eq!(LATIN_EXT_A.len(), 128);
    }

    #[test]
    fn latin_text_maps_to_pc858() {
        // Bytes from the PC858 chart (IBM CP00858).
        assert_eq!(text("Käse"), b"K\x84se");
        assert_eq!(text("Crème brûlée"), b"Cr\x8Ame br\x96l\x82e");
        assert_eq!(text("€4,50"), b"\xD54,50");
        assert_eq!(text("Ñandú ß"), b"\xA5and\xA3 \xE1");
    }

    #[test]
    fn other_text_stays_readable() {
        assert_eq!(
            text("Żurek, pierogi z łososiem"),
            b"Zurek, pierogi z lososiem"
        );
        assert_eq!(text("“Spicy” – hot…"), b"\"Spicy\" - hot...");
        assert_eq!(text("拉面"), b"??");
        // A control character in a note can never become a command.
        assert_eq!(text("a\x1bV\x1dz"), b"a V z");
    }

    #[test]
    fn a_document_starts_initialised_and_ends_cut() {
        let mut e = Escpos::new(20);
        e.bold(true).line("Order 12", 0).bold(false);
        let bytes = e.cut();
        assert!(bytes.starts_with(&[0x1B, b'@', 0x1B, b't', 19]));
        assert!(bytes.ends_with(&[0x1D, b'V', 66, 0]));
    }

    #[test]
    fn long_lines_wrap_with_an_indent() {
        let mut e = Escpos::new(16);
        e.line("2x Vegetable dumplings with chilli oil", 3);
        let bytes = e.cut();
        let body = String::from_utf8_lossy(&bytes[5..bytes.len() - 4]).into_owned();
        for l in body.lines() {
            assert!(l.chars().count() <= 16, "{l:?}");
        }
        assert_eq!(body, "2x Vegetable\n   dumplings\n   with chilli\n   oil\n");
    }
}

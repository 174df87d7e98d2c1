#!/usr/bin/env python3
"""Generate the Skarbnica demo corpus from demo/threads/*.txt.

Usage (from the repository root or anywhere):

    python3 demo/generate.py

Reads every demo/threads/*.txt file (syntax: demo/FORMAT.md) and writes

    demo/praktyki-2024.mbox   mboxrd, messages dated 2024, sorted by date
    demo/praktyki-2025.mbox   mboxrd, messages dated 2025, sorted by date
    demo/manifest.tsv         message_id, thread, topic, file (for evaluating
                              the topic classifier; one row per Message-ID)

Python 3 standard library only. The output is a pure function of the input
files: no clock, no unseeded randomness; every "random" choice (Message-ID,
seconds of the Date, mail client, boundaries, B or Q encoding) is taken from
a SHA-1 of the source file name, thread number and message number. Zip
members are STORED and the PDF is uncompressed, so the bytes do not depend on
the zlib version either.
"""

import base64
import calendar
import datetime
import hashlib
import html
import io
import os
import quopri
import re
import sys
import textwrap
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
THREADS_DIR = os.path.join(HERE, "threads")
OUT_MBOX = {2024: "praktyki-2024.mbox", 2025: "praktyki-2025.mbox"}
OUT_MANIFEST = "manifest.tsv"

LIST_ADDR = "praktyki@lista.example"
LIST_ID = "Praktyki JST <praktyki.lista.example>"
LIST_DOMAIN = "lista.example"

TOPICS = """zamowienia woda-scieki imprezy-masowe ngo bip rodo budzet-zadaniowy
kontrola-zarzadcza jakosc fundusze-ue obieg-dokumentow promocja
badania-satysfakcji kadry-szkolenia strategia lad-przestrzenny drogi odpady
energia pomoc-spoleczna edukacja kultura sport zielen porzadek-publiczny
konsultacje spotkania""".split()

ENCODINGS = ["utf8-8bit", "utf8-qp", "utf8-b64", "iso2-qp", "cp1250-b64",
             "cp1250-mislabel", "html-only", "html-iso2", "alternative"]

MUAS = ["outlook", "thunderbird", "roundcube", "zimbra"]

# domain -> (partner slug, office used in signatures, phone prefix,
#            mail clients used in that office)
PARTNERS = {
    "brzozowka.example": ("brzozowka", "Urząd Gminy Brzozówka", "81 566",
                          ["thunderbird", "roundcube"]),
    "jaskowo.example": ("jaskowo", "Urząd Gminy w Jaśkowie", "84 617",
                        ["outlook"]),
    "zielonka-wielka.example": ("zielonka", "Urząd Miasta Zielonka Wielka",
                                "82 571", ["outlook", "outlook", "thunderbird"]),
    "sosnica.example": ("sosnica", "Urząd Gminy Sośnica Dolna", "81 888",
                        ["zimbra"]),
    "debowa-gora.example": ("debowa", "Urząd Gminy Dębowa Góra", "84 663",
                            ["thunderbird", "roundcube"]),
    "powiat-lakowski.example": ("lakowski", "Starostwo Powiatowe w Łąkowie",
                                "82 565", ["outlook"]),
    "borowiecki.example": ("borowiecki", "Starostwo Powiatowe w Borowcu",
                           "83 342", ["zimbra", "thunderbird"]),
    "lista.example": ("-", "Biuro Partnerstwa Dobrych Praktyk JST", "81 445",
                      ["thunderbird"]),
}

# Known people: address -> (position, office or None for the partner's
# office, signature?). Senders not listed get a name/office/phone signature
# for about half of the addresses (chosen by hash), without a position.
PEOPLE = {
    # Gmina Brzozówka
    "a.kowalczyk@brzozowka.example": ("inspektor ds. zamówień publicznych", None, True),
    "t.wroblewski@brzozowka.example": ("sekretarz gminy", None, True),
    "skarbnik@brzozowka.example": ("skarbnik gminy", None, False),
    "informatyk@brzozowka.example": ("informatyk", None, True),
    "gops@brzozowka.example": ("kierownik GOPS",
                               "Gminny Ośrodek Pomocy Społecznej w Brzozówce", True),
    "k.mazur@brzozowka.example": ("podinspektor ds. promocji i współpracy z organizacjami pozarządowymi", None, True),
    "gzk@brzozowka.example": ("kierownik zakładu",
                              "Gminny Zakład Komunalny w Brzozówce", False),
    # Gmina Jaśkowo
    "p.zajac@jaskowo.example": ("kierownik Referatu Inwestycji i Zamówień Publicznych", None, True),
    "k.lis@jaskowo.example": ("inspektor ds. organizacyjnych, administrator BIP", None, True),
    "iod@jaskowo.example": ("inspektor ochrony danych", None, True),
    "r.kaczmarek@jaskowo.example": ("skarbnik gminy", None, True),
    "zuk@jaskowo.example": ("kierownik zakładu",
                            "Zakład Usług Komunalnych w Jaśkowie", False),
    "h.baranowska@jaskowo.example": ("inspektor ds. kultury, sportu i organizacji pozarządowych", None, True),
    # Miasto Zielonka Wielka
    "m.gorska@zielonka-wielka.example": ("naczelnik Wydziału Zamówień Publicznych", None, True),
    "k.jablonski@zielonka-wielka.example": ("naczelnik Wydziału Budżetu, zastępca skarbnika miasta", None, True),
    "a.wojcik@zielonka-wielka.example": ("pełnomocnik burmistrza ds. organizacji pozarządowych", None, True),
    "l.baran@zielonka-wielka.example": ("kierownik Referatu Bezpieczeństwa i Zarządzania Kryzysowego", None, True),
    "iod@zielonka-wielka.example": ("inspektor ochrony danych", None, True),
    "d.zalewska@zielonka-wielka.example": ("koordynator ds. dostępności", None, True),
    "wodociagi@zielonka-wielka.example": ("specjalista ds. taryf",
                                          "Przedsiębiorstwo Wodociągów i Kanalizacji w Zielonce Wielkiej Sp. z o.o.", True),
    # Gmina Sośnica Dolna
    "j.pawlak@sosnica.example": ("sekretarz gminy", None, True),
    "b.michalska@sosnica.example": ("inspektor ds. zamówień publicznych i funduszy zewnętrznych", None, False),
    "s.czarnecki@sosnica.example": ("kierownik Referatu Gospodarki Komunalnej", None, True),
    "skarbnik@sosnica.example": ("skarbnik gminy", None, True),
    "gok@sosnica.example": ("dyrektor", "Gminny Ośrodek Kultury w Sośnicy Dolnej", False),
    # Gmina Dębowa Góra
    "m.zak@debowa-gora.example": ("informatyk, administrator BIP", None, True),
    "i.kolodziej@debowa-gora.example": ("inspektor ds. oświaty, kultury i sportu", None, True),
    "r.adamczyk@debowa-gora.example": ("kierownik Referatu Gospodarki Komunalnej i Ochrony Środowiska", None, False),
    "sekretarz@debowa-gora.example": ("sekretarz gminy", None, True),
    # Powiat Łąkowski
    "a.nowakowska@powiat-lakowski.example": ("naczelnik Wydziału Organizacyjnego", None, True),
    "iod@powiat-lakowski.example": ("inspektor ochrony danych", None, True),
    "j.kaminska@powiat-lakowski.example": ("skarbnik powiatu", None, True),
    "p.sadowski@powiat-lakowski.example": ("główny specjalista, Biuro Zamówień Publicznych", None, True),
    "ngo@powiat-lakowski.example": ("inspektor ds. współpracy z organizacjami pozarządowymi", None, True),
    # Powiat Borowiecki
    "w.sobczak@borowiecki.example": ("kierownik Referatu Informatyki", None, True),
    "m.krawczyk@borowiecki.example": ("zastępca naczelnika Wydziału Finansowego", None, True),
    "a.wieczorek@borowiecki.example": ("inspektor ds. zarządzania kryzysowego", None, False),
    "t.glowacka@borowiecki.example": ("inspektor ochrony danych", None, True),
    # Biuro Partnerstwa
    "koordynator@lista.example": ("koordynator Partnerstwa Dobrych Praktyk JST", None, True),
}

# Three offers from outside the partnership (for the "held for review"
# feature). Same syntax as the thread files; topic "-" in the manifest.
EXTERNAL_NAME = "99-spoza-partnerstwa"
EXTERNAL_SOURCE = """
=== thread
topic: -
subject: Fotowoltaika na budynkach gminnych – bezpłatny audyt i finansowanie

--- message
from: Dział Samorządowy SolarPol <oferty@solarpol-energia.example>
date: 2024-04-09 07:41
encoding: alternative
body:
Szanowni Państwo,

w imieniu firmy SolarPol Energia Sp. z o.o. zapraszamy urzędy gmin i starostwa do skorzystania z bezpłatnego audytu dachów budynków użyteczności publicznej (szkoły, remizy OSP, świetlice wiejskie, oczyszczalnie ścieków).

W ramach współpracy oferujemy:
- projekt i montaż instalacji fotowoltaicznych 10–200 kWp,
- przygotowanie wniosku o dofinansowanie (programy krajowe i regionalne),
- model „bez wkładu własnego” z płatnością z oszczędności na energii.

Do końca maja dla JST audyt i koncepcja techniczna gratis. Prosimy o kontakt pod numerem 500 600 700 lub odpowiedź na tę wiadomość.

Z wyrazami szacunku
Dział Samorządowy SolarPol Energia

=== thread
topic: -
subject: Szkolenie online: Prawo zamówień publicznych w praktyce JST – rabat 30% dla członków partnerstw

--- message
from: Akademia Kompetencji Samorządowych <szkolenia@akademia-kompetencje.example>
date: 2024-10-15 06:05
encoding: html-only
body:
Szanowni Państwo,

zapraszamy na jednodniowe szkolenie online „Zamówienia publiczne w JST po nowelizacjach – zamówienia poniżej 130 000 zł, waloryzacja, kontrole RIO”, które odbędzie się 7 listopada 2024 r. w godz. 9:00–15:00.

Cena: 590 zł netto od osoby, dla pracowników jednostek zrzeszonych w partnerstwach samorządowych 413 zł (rabat 30%). Szkolenie jest zwolnione z VAT przy finansowaniu ze środków publicznych.

Zgłoszenia przez formularz na naszej stronie do 31 października.

Zespół Akademii Kompetencji Samorządowych

=== thread
topic: -
subject: Elektroniczny obieg dokumentów i e-Doręczenia – bezpłatna prezentacja dla urzędu

--- message
from: Krzysztof Nowak DataSoft <k.nowak@datasoft-systemy.example>
date: 2025-02-18 10:22
encoding: cp1250-b64
body:
Dzień dobry,

w związku z obowiązkiem korzystania z e-Doręczeń przez podmioty publiczne chciałbym zaproponować Państwu bezpłatną, godzinną prezentację naszego systemu elektronicznego obiegu dokumentów DataSoft EZD+, zintegrowanego z e-Doręczeniami, ePUAP i BIP.

System wdrożyliśmy już w ponad 40 urzędach gmin. Możemy przygotować ofertę dla całego partnerstwa, z rabatem przy wspólnym zamówieniu.

Proszę o informację, czy i w jakim terminie byliby Państwo zainteresowani spotkaniem.

Z poważaniem
Krzysztof Nowak
doradca ds. sektora publicznego
DataSoft Systemy Sp. z o.o.
tel. 601 222 333
"""


class SourceError(Exception):
    pass


# --------------------------------------------------------------------------
# Hashing helpers: every pseudo-random choice comes from here.

def h40(*parts):
    return hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def hint(*parts):
    return int(h40(*parts), 16)


# --------------------------------------------------------------------------
# Parsing the source files.

MSG_FIELDS = {"from", "date", "reply-to", "quote", "prefix", "mua", "encoding",
              "attach", "to", "cc", "no-diacritics", "duplicate"}
THREAD_FIELDS = {"topic", "subject", "tag"}
PREFIXES = {"Re:", "RE:", "Odp:", "ODP:", "PD:", "Fwd:", "FW:", "Fw:"}
MUA_VALUES = {"outlook-no-refs", "outlook", "thunderbird", "roundcube", "zimbra"}
ATTACH_EXT = {".pdf", ".docx", ".odt", ".txt", ".csv"}
ADDR_RE = re.compile(r"^\s*(.*?)\s*<([^<>@\s]+@([^<>@\s]+))>\s*$")
SEP_RE = re.compile(r"^(=== thread\s*$|--- message\s*$|--- attachment\s+\S)")


class Thread:
    def __init__(self, fname, number, lineno):
        self.fname = fname
        self.number = number
        self.lineno = lineno
        self.fields = {}
        self.messages = []

    @property
    def key(self):
        return "%s/%d" % (self.fname, self.number)


class Message:
    def __init__(self, thread, number, lineno):
        self.thread = thread
        self.number = number
        self.lineno = lineno
        self.fields = {}
        self.body = ""


class Attachment:
    def __init__(self, name, lineno):
        self.name = name
        self.lineno = lineno
        self.title = None
        self.text = ""


def parse_addr(s, where):
    m = ADDR_RE.match(s)
    if not m:
        raise SourceError("%s: bad address %r (want 'Name <addr@domain>')" % (where, s))
    return m.group(1).strip().strip('"'), m.group(2), m.group(3).lower()


def parse_source(fname, text):
    """Return (threads, attachments) of one source file."""
    lines = text.split("\n")
    threads, attachments = [], {}
    i, n = 0, len(lines)

    def where(ln):
        return "%s.txt:%d" % (fname, ln + 1)

    def read_block(i):
        """Lines up to the next separator; returns (lines, next index)."""
        out = []
        while i < n and not SEP_RE.match(lines[i]):
            out.append(lines[i].rstrip())
            i += 1
        while out and out[-1] == "":
            out.pop()
        while out and out[0] == "":
            out.pop(0)
        return out, i

    thread = None
    while i < n:
        line = lines[i]
        if line.strip() == "" or line.startswith("#"):
            i += 1
            continue
        if line.startswith("=== thread"):
            thread = Thread(fname, len(threads) + 1, i)
            threads.append(thread)
            i += 1
            while i < n and not SEP_RE.match(lines[i]):
                ln = lines[i].strip()
                i += 1
                if not ln or ln.startswith("#"):
                    continue
                k, sep, v = ln.partition(":")
                if not sep or k.strip() not in THREAD_FIELDS:
                    raise SourceError("%s: unknown thread field %r" % (where(i - 1), ln))
                thread.fields[k.strip()] = v.strip()
            continue
        if line.startswith("--- message"):
            if thread is None:
                raise SourceError("%s: message outside a thread" % where(i))
            msg = Message(thread, len(thread.messages) + 1, i)
            thread.messages.append(msg)
            i += 1
            while True:
                if i >= n or SEP_RE.match(lines[i]):
                    raise SourceError("%s: message without 'body:'" % where(msg.lineno))
                ln = lines[i].strip()
                i += 1
                if not ln:
                    continue
                k, sep, v = ln.partition(":")
                k = k.strip()
                if k == "body":
                    break
                if not sep or k not in MSG_FIELDS:
                    raise SourceError("%s: unknown message field %r" % (where(i - 1), ln))
                msg.fields[k] = v.strip()
            body, i = read_block(i)
            msg.body = "\n".join(body)
            continue
        m = re.match(r"^--- attachment\s+(.+?)\s*$", line)
        if m:
            att = Attachment(m.group(1), i)
            if att.name in attachments:
                raise SourceError("%s: attachment %r defined twice" % (where(i), att.name))
            attachments[att.name] = att
            block, i = read_block(i + 1)
            if block and block[0].startswith("title:"):
                att.title = block[0][6:].strip()
                block = block[1:]
                while block and block[0] == "":
                    block.pop(0)
            att.text = "\n".join(block)
            continue
        raise SourceError("%s: unexpected line %r" % (where(i), line))
    return threads, attachments


# --------------------------------------------------------------------------
# Dates: Europe/Warsaw without zoneinfo (CET/CEST, EU rules).

def last_sunday(year, month):
    d = datetime.date(year, month, calendar.monthrange(year, month)[1])
    return d - datetime.timedelta(days=(d.weekday() - 6) % 7)


def pl_offset_hours(local):
    start = datetime.datetime.combine(last_sunday(local.year, 3), datetime.time(2, 0))
    end = datetime.datetime.combine(last_sunday(local.year, 10), datetime.time(3, 0))
    if start <= local < start + datetime.timedelta(hours=1):
        raise ValueError("nonexistent local time (DST gap)")
    return 2 if start <= local < end else 1


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
          "Nov", "Dec"]
PL_DAYS = ["poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota",
           "niedziela"]


def rfc5322_date(local, off):
    return "%s, %d %s %d %02d:%02d:%02d +0%d00" % (
        DAYS[local.weekday()], local.day, MONTHS[local.month - 1], local.year,
        local.hour, local.minute, local.second, off)


def asctime(utc):
    return "%s %s %2d %02d:%02d:%02d %d" % (
        DAYS[utc.weekday()], MONTHS[utc.month - 1], utc.day, utc.hour,
        utc.minute, utc.second, utc.year)


# --------------------------------------------------------------------------
# Charsets.

CHARSET_NAMES = {"utf-8": ["UTF-8", "utf-8"],
                 "iso-8859-2": ["ISO-8859-2", "iso-8859-2"],
                 "windows-1250": ["windows-1250", "Windows-1250"]}

# Characters a Polish office text uses that ISO-8859-2 lacks: a mail client
# that sends ISO-8859-2 replaces them (typographic quotes, dashes, ellipsis).
ISO2_FALLBACK = str.maketrans({"„": '"', "”": '"', "“": '"', "–": "-", "—": "-",
                               "…": "...", "’": "'", "‘": "'", "\u00a0": " "})

POLISH_LETTERS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")


def to_charset(text, charset, where):
    if charset == "iso-8859-2":
        text = text.translate(ISO2_FALLBACK)
    try:
        return text, text.encode(charset)
    except UnicodeEncodeError as e:
        raise SourceError("%s: character %r cannot be sent in %s"
                          % (where, e.object[e.start], charset))


def qp_body(data):
    out = quopri.encodestring(data, quotetabs=False)
    if not out.endswith(b"\n"):
        out += b"\n"
    return out


def b64_body(data):
    return base64.encodebytes(data)


# RFC 2047 encoded words.

Q_SAFE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")


def q_encode(data):
    out = []
    for c in data:
        if c == 0x20:
            out.append("_")
        elif c in Q_SAFE:
            out.append(chr(c))
        else:
            out.append("=%02X" % c)
    return "".join(out)


def encoded_words(text, charset, label, method, maxlen=75):
    """Encode text as one or more encoded words, never splitting a character."""
    def enc(piece):
        data = piece.encode(charset)
        body = base64.b64encode(data).decode() if method == "B" else q_encode(data)
        return "=?%s?%s?%s?=" % (label, method, body)
    words, cur = [], ""
    for ch in text:
        if cur and len(enc(cur + ch)) > maxlen:
            words.append(enc(cur))
            cur = ch
        else:
            cur += ch
    if cur:
        words.append(enc(cur))
    return words


def fold(name, tokens, width=78):
    """Join header tokens with spaces, folding before a token that overflows."""
    line = name + ":"
    out = []
    for t in tokens:
        if len(line) + 1 + len(t) > width and line != name + ":":
            out.append(line)
            line = " " + t
        else:
            line += " " + t
    out.append(line)
    return "\n".join(out)


def is_ascii(s):
    return all(ord(c) < 128 for c in s)


def encode_subject(subject, charset, label, method, style):
    """Header tokens for a subject. style 'whole' encodes everything (Outlook,
    Thunderbird); 'words' encodes only the runs of non-ASCII words."""
    if is_ascii(subject):
        return subject.split(" ")
    if style == "whole":
        return encoded_words(subject, charset, label, method)
    words = subject.split(" ")
    tokens, i = [], 0
    while i < len(words):
        if is_ascii(words[i]):
            tokens.append(words[i])
            i += 1
            continue
        j = i
        while j + 1 < len(words) and not is_ascii(words[j + 1]):
            j += 1
        tokens.extend(encoded_words(" ".join(words[i:j + 1]), charset, label, method))
        i = j + 1
    return tokens


SPECIALS = set('()<>[]:;@\\,."')


def format_addr(name, addr, charset, label, method, split, quote_ascii):
    if not name:
        return addr
    if is_ascii(name):
        if quote_ascii or any(c in SPECIALS for c in name):
            return '"%s" <%s>' % (name.replace("\\", "\\\\").replace('"', '\\"'), addr)
        return "%s <%s>" % (name, addr)
    if split and len(name) > 3:
        cut = len(name) // 2
        words = (encoded_words(name[:cut], charset, label, method)
                 + encoded_words(name[cut:], charset, label, method))
    else:
        words = encoded_words(name, charset, label, method)
    return "%s <%s>" % (" ".join(words), addr)


# --------------------------------------------------------------------------
# Attachments: PDF, DOCX, ODT by hand.

PDF_GLYPHS = {
    "ą": (0xB9, "aogonek"), "ć": (0xE6, "cacute"), "ę": (0xEA, "eogonek"),
    "ł": (0xB3, "lslash"), "ń": (0xF1, "nacute"), "ó": (0xF3, "oacute"),
    "ś": (0x9C, "sacute"), "ź": (0x9F, "zacute"), "ż": (0xBF, "zdotaccent"),
    "Ą": (0xA5, "Aogonek"), "Ć": (0xC6, "Cacute"), "Ę": (0xCA, "Eogonek"),
    "Ł": (0xA3, "Lslash"), "Ń": (0xD1, "Nacute"), "Ó": (0xD3, "Oacute"),
    "Ś": (0x8C, "Sacute"), "Ź": (0x8F, "Zacute"), "Ż": (0xAF, "Zdotaccent"),
}
PDF_CODES = {code for code, _ in PDF_GLYPHS.values()}


def pdf_string(s, where):
    out = bytearray(b"(")
    for ch in s:
        if ch in PDF_GLYPHS:
            c = PDF_GLYPHS[ch][0]
        else:
            try:
                b = ch.encode("cp1252")
            except UnicodeEncodeError:
                raise SourceError("%s: character %r not available in the PDF font" % (where, ch))
            c = b[0]
            if c in PDF_CODES:
                raise SourceError("%s: character %r clashes with a Polish glyph code" % (where, ch))
        if c in b"()\\":
            out += b"\\" + bytes([c])
        elif c < 32 or c > 126:
            out += b"\\%03o" % c
        else:
            out.append(c)
    out += b")"
    return bytes(out)


def pdf_text16(s):
    return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode() + b">"


# Helvetica advance widths (AFM, 1/1000 em) for ASCII 32..126; Polish letters
# take the width of their base letter.
HELV_ASCII = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584,
    584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556,
    833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
    278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222,
    500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500,
    500, 334, 260, 334, 584]
HELV_OTHER = {"„": 333, "”": 333, "“": 333, "–": 556, "—": 1000, "…": 1000,
              "§": 556, "°": 400, "ł": 222, "Ł": 556}


def helv_width(s, size, bold=False):
    w = 0
    for ch in s:
        if ch in HELV_OTHER:
            w += HELV_OTHER[ch]
            continue
        base = ch
        if ord(ch) > 126:
            base = {"ą": "a", "ć": "c", "ę": "e", "ń": "n", "ó": "o", "ś": "s",
                    "ź": "z", "ż": "z", "Ą": "A", "Ć": "C", "Ę": "E", "Ń": "N",
                    "Ó": "O", "Ś": "S", "Ź": "Z", "Ż": "Z"}.get(ch, "m")
        w += HELV_ASCII[ord(base) - 32] if 32 <= ord(base) <= 126 else 556
    return w * size / 1000.0 * (1.08 if bold else 1.0)


def pdf_wrap(para, size, maxw, bold=False):
    indent = re.match(r"^(\s*(?:[-•]|\d+[.)])\s+)", para)
    sub = " " * len(indent.group(1)) if indent else ""
    words = para.split()
    lines, cur = [], ""
    for w in words:
        cand = (cur + " " + w) if cur else w
        if cur and helv_width(cand, size, bold) > maxw:
            lines.append(cur)
            cur = sub + w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def make_pdf(title, text, local, off, where):
    size, leading, maxw = 10, 14, 595 - 2 * 56
    lines = []
    for para in text.split("\n"):
        if not para.strip():
            lines.append(("F1", ""))
            continue
        for ln in pdf_wrap(para, size, maxw):
            lines.append(("F1", ln))
    head = pdf_wrap(title, 13, maxw, bold=True) if title else []
    per_page = 52
    pages = []
    first = per_page - (len(head) + 1 if head else 0) - 1
    body = lines
    pages.append(body[:first])
    body = body[first:]
    while body:
        pages.append(body[:per_page])
        body = body[per_page:]
    total = len(pages)

    objs = {}
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    diffs = " ".join("%d /%s" % (c, g) for c, g in sorted(PDF_GLYPHS.values()))
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding 5 0 R >>"
    objs[4] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding 5 0 R >>"
    objs[5] = ("<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [%s] >>"
               % diffs).encode()
    stamp = "D:%04d%02d%02d%02d%02d%02d+0%d'00'" % (
        local.year, local.month, local.day, local.hour, local.minute,
        local.second, off)
    objs[6] = (b"<< /Title " + pdf_text16(title or "") + b" /Producer (Skarbnica demo generator)"
               b" /CreationDate (" + stamp.encode() + b") >>")
    kids = []
    for p, plines in enumerate(pages):
        page_obj, cont_obj = 7 + 2 * p, 8 + 2 * p
        kids.append(b"%d 0 R" % page_obj)
        cs = bytearray()
        y = 786
        if p == 0 and head:
            for ln in head:
                cs += b"BT /F2 13 Tf 56 %d Td " % y + pdf_string(ln, where) + b" Tj ET\n"
                y -= 18
            y -= 8
        cs += b"BT /F1 %d Tf %d TL 56 %d Td\n" % (size, leading, y)
        for i, (_, ln) in enumerate(plines):
            if i:
                cs += b"T* "
            cs += pdf_string(ln, where) + b" Tj\n"
        cs += b"ET\n"
        cs += (b"BT /F1 8 Tf 500 40 Td " + pdf_string("Strona %d z %d" % (p + 1, total), where)
               + b" Tj ET\n")
        objs[page_obj] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                          b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
                          b"/Contents %d 0 R >>" % cont_obj)
        objs[cont_obj] = b"<< /Length %d >>\nstream\n" % len(cs) + bytes(cs) + b"endstream"
    objs[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % total

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    size_ = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size_
    for num in range(1, size_):
        out += b"%010d 00000 n \n" % offsets[num]
    fid = hashlib.md5(bytes(out)).hexdigest().upper().encode()
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R /ID [<%s> <%s>] >>\n"
            b"startxref\n%d\n%%%%EOF\n" % (size_, fid, fid, xref))
    return bytes(out)


def zip_package(members, local):
    buf = io.BytesIO()
    stamp = (local.year, local.month, local.day, local.hour, local.minute,
             local.second - local.second % 2)
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=stamp)
            zi.compress_type = zipfile.ZIP_STORED
            zi.create_system = 0
            zi.external_attr = 0
            z.writestr(zi, data)
    return buf.getvalue()


def xml_esc(s):
    return html.escape(s, quote=True)


def doc_paragraphs(text):
    return [p.strip() for p in text.split("\n") if p.strip()]


def iso_stamp(local, off):
    utc = local - datetime.timedelta(hours=off)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (utc.year, utc.month, utc.day,
                                             utc.hour, utc.minute, utc.second)


def make_docx(title, text, author, local, off):
    paras = []
    if title:
        paras.append('<w:p><w:pPr><w:jc w:val="center"/><w:spacing w:after="240"/></w:pPr>'
                     '<w:r><w:rPr><w:b/><w:sz w:val="28"/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r></w:p>'
                     % xml_esc(title))
    for p in doc_paragraphs(text):
        paras.append('<w:p><w:pPr><w:spacing w:after="120"/><w:jc w:val="both"/></w:pPr>'
                     '<w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>' % xml_esc(p))
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                '<w:body>%s<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
                '<w:pgMar w:top="1417" w:right="1417" w:bottom="1417" w:left="1417" '
                'w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>'
                % "".join(paras))
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
             '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
             '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>')
    stamp = iso_stamp(local, off)
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:title>%s</dc:title><dc:creator>%s</dc:creator>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">%s</dcterms:created>'
            '<dcterms:modified xsi:type="dcterms:W3CDTF">%s</dcterms:modified>'
            '</cp:coreProperties>' % (xml_esc(title or ""), xml_esc(author), stamp, stamp))
    return zip_package([("[Content_Types].xml", types), ("_rels/.rels", rels),
                        ("word/document.xml", document), ("docProps/core.xml", core)], local)


def make_odt(title, text, author, local, off):
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"')
    body = []
    if title:
        body.append('<text:h text:style-name="Heading_20_1" text:outline-level="1">%s</text:h>'
                    % xml_esc(title))
    for p in doc_paragraphs(text):
        body.append('<text:p text:style-name="Text_20_body">%s</text:p>' % xml_esc(p))
    content = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<office:document-content %s office:version="1.2">'
               '<office:automatic-styles/><office:body><office:text>%s'
               '</office:text></office:body></office:document-content>' % (ns, "".join(body)))
    styles = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<office:document-styles %s office:version="1.2"><office:styles>'
              '<style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph">'
              '<style:paragraph-properties fo:margin-bottom="0.25cm"/></style:style>'
              '<style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph">'
              '<style:text-properties fo:font-size="14pt" fo:font-weight="bold"/></style:style>'
              '</office:styles></office:document-styles>' % ns)
    stamp = iso_stamp(local, off)[:-1]
    meta = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.2"><office:meta>'
            '<meta:generator>LibreOffice/7.5.9.2$Windows_X86_64 LibreOffice_project/cdeefe45c17511d326101eed8008ac4092f278a9</meta:generator>'
            '<dc:title>%s</dc:title><meta:initial-creator>%s</meta:initial-creator>'
            '<meta:creation-date>%s</meta:creation-date></office:meta></office:document-meta>'
            % (xml_esc(title or ""), xml_esc(author), stamp))
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    return zip_package([("mimetype", "application/vnd.oasis.opendocument.text"),
                        ("content.xml", content), ("styles.xml", styles),
                        ("meta.xml", meta), ("META-INF/manifest.xml", manifest)], local)


MIME_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".txt": "text/plain",
    ".csv": "text/plain",
}


# --------------------------------------------------------------------------
# Rendering messages.

def wrap_text(text, width=72):
    out = []
    for line in text.split("\n"):
        if len(line) <= width or line.startswith(">"):
            out.append(line)
            continue
        m = re.match(r"^(\s*(?:[-•*]|\d+[.)]|[a-z][)])\s+)", line)
        sub = " " * len(m.group(1)) if m else ""
        out.extend(textwrap.wrap(line, width, subsequent_indent=sub,
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def signature_lines(name, addr, domain):
    office_default = PARTNERS.get(domain, (None, None, None, None))[1]
    if domain not in PARTNERS:
        return None
    person = PEOPLE.get(addr)
    if person:
        position, office, wants = person
        if not wants:
            return None
    else:
        if hint("sig", addr) % 2:
            return None
        position, office = None, None
    office = office or office_default
    prefix = PARTNERS[domain][2]
    n = hint("tel", addr)
    phone = "tel. %s %02d %02d" % (prefix, n % 90 + 10, (n // 90) % 90 + 10)
    if hint("wew", addr) % 3 == 0:
        phone += " wew. %d" % (100 + (n // 8100) % 150)
    lines = [name]
    if position:
        lines.append(position[0].upper() + position[1:])
    lines.append(office)
    lines.append(phone)
    return lines


def thunderbird_ua(local):
    if (local.year, local.month) < (2024, 8):
        ver = "115.%d.0" % (4 + (local.month + local.year) % 8)
    else:
        ver = "128.%d.%desr" % ((local.month * 3 + local.year) % 12, local.day % 3)
    return "Mozilla Thunderbird" if local.day % 5 == 0 else (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%s) Gecko/20100101 Thunderbird/%s"
        % (ver.split(".")[0] + ".0", ver))


def mua_headers(mua, local, seed):
    if mua == "outlook":
        return [("X-Mailer", "Microsoft Outlook 16.0"),
                ("Thread-Index", base64.b64encode(bytes.fromhex("01da" + seed[:40])).decode()),
                ("Content-Language", "pl")]
    if mua == "thunderbird":
        return [("User-Agent", thunderbird_ua(local)), ("Content-Language", "pl")]
    if mua == "roundcube":
        return [("User-Agent", "Roundcube Webmail/1.6.%d" % (5 if local.year == 2024 else 9))]
    return [("X-Mailer", "Zimbra 9.0.0_GA_4583 (ZimbraWebClient - GC%d (Win)/9.0.0_GA_4583)"
             % (120 + local.year % 10))]


def make_msgid(seed, mua, domain, local, utc):
    if mua == "outlook":
        return "<%s01d%s%s$%s$%s$@%s>" % (seed[0:4], "a" if local.year == 2024 else "b",
                                            seed[4:8], seed[8:16], seed[16:24], domain)
    if mua == "thunderbird":
        return "<%s-%s-4%s-%x%s-%s@%s>" % (seed[0:8], seed[8:12], seed[13:16],
                                          8 + int(seed[16], 16) % 4, seed[17:20],
                                          seed[20:32], domain)
    if mua == "roundcube":
        return "<%s@%s>" % (seed[0:32], domain)
    ms = calendar.timegm(utc.timetuple()) * 1000 + int(seed[0:3], 16) % 1000
    return "<%d.%d.%d.JavaMail.zimbra@%s>" % (int(seed[3:11], 16) % 1999999 + 1,
                                              int(seed[11:16], 16) % 99999 + 1, ms, domain)


def make_boundary(seed, mua, local, utc, salt):
    s = h40(seed, "boundary", salt)
    if mua == "outlook":
        return "----=_NextPart_%03d_%s_01D%s%s.%s" % (
            0 if salt == "mixed" else 1, s[0:4].upper(), "A" if local.year == 2024 else "B",
            s[4:8].upper(), s[8:16].upper())
    if mua == "thunderbird":
        alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        n = int(s, 16)
        return "-" * 12 + "".join(alpha[(n >> (6 * i)) % 62] for i in range(24))
    if mua == "roundcube":
        return "=_" + s[0:32]
    ms = calendar.timegm(utc.timetuple()) * 1000 + int(s[0:3], 16) % 1000
    return "----=_Part_%d_%d.%d" % (int(s[3:8], 16) % 90000 + 1000,
                                   int(s[8:13], 16) % 900000000 + 100000000, ms)


def html_escape_text(s):
    return html.escape(s, quote=False)


def outlook_html(author, sig, attribution, quoted, meta_charset):
    def ps(text):
        out = []
        for line in text.split("\n"):
            if line.strip():
                out.append('<p class="MsoNormal">%s<o:p></o:p></p>' % html_escape_text(line))
            else:
                out.append('<p class="MsoNormal"><o:p>&nbsp;</o:p></p>')
        return "\n".join(out)
    parts = [ps(author)]
    if sig:
        parts.append('<p class="MsoNormal"><o:p>&nbsp;</o:p></p>')
        parts.append('<p class="MsoNormal"><span style="font-size:9.0pt;color:#595959">%s<o:p></o:p></span></p>'
                     % "<br>\n".join(html_escape_text(x) for x in sig))
    if attribution:
        parts.append('<p class="MsoNormal"><o:p>&nbsp;</o:p></p>')
        parts.append('<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">')
        parts.append('<p class="MsoNormal">%s<o:p></o:p></p>' % html_escape_text(attribution))
        parts.append('</div>')
        parts.append('<blockquote style="border:none;border-left:solid #CCCCCC 1.0pt;padding:0cm 0cm 0cm 6.0pt;margin-left:4.8pt">')
        parts.append(ps(quoted))
        parts.append('</blockquote>')
    return ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">\n'
            '<head>\n<meta http-equiv="Content-Type" content="text/html; charset=%s">\n'
            '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
            '<style><!--\np.MsoNormal, li.MsoNormal, div.MsoNormal\n'
            '\t{margin:0cm;font-size:11.0pt;font-family:"Calibri",sans-serif;}\n'
            'div.WordSection1\n\t{page:WordSection1;}\n--></style>\n</head>\n'
            '<body lang="PL" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">\n'
            '<div class="WordSection1">\n%s\n</div>\n</body>\n</html>\n'
            % (meta_charset, "\n".join(parts)))


def generic_html(author, sig, attribution, quoted, meta_charset):
    def ps(text):
        out = []
        for para in re.split(r"\n\s*\n", text.strip("\n")):
            out.append("<p>%s</p>" % "<br>\n".join(html_escape_text(x) for x in para.split("\n")))
        return "\n".join(out)
    parts = [ps(author)]
    if sig:
        parts.append('<pre class="moz-signature" cols="72">-- \n%s</pre>'
                     % "\n".join(html_escape_text(x) for x in sig))
    if attribution:
        parts.append('<div class="moz-cite-prefix">%s<br>\n</div>' % html_escape_text(attribution))
        parts.append('<blockquote type="cite">\n%s\n</blockquote>' % ps(quoted))
    return ('<!DOCTYPE html>\n<html>\n<head>\n'
            '<meta http-equiv="Content-Type" content="text/html; charset=%s">\n'
            '</head>\n<body>\n%s\n</body>\n</html>\n' % (meta_charset, "\n".join(parts)))


def hdr_block(headers):
    return "".join("%s: %s\n" % (k, v) if not v.startswith(k + ":") else v + "\n"
                   for k, v in headers).encode("ascii")


def multipart(subtype, parts, boundary, preamble=True):
    headers = [("Content-Type", 'multipart/%s;\n boundary="%s"' % (subtype, boundary))]
    out = bytearray()
    if preamble:
        out += b"This is a multi-part message in MIME format.\n"
    for ph, pb in parts:
        out += b"--" + boundary.encode() + b"\n" + hdr_block(ph) + b"\n" + pb
        if not pb.endswith(b"\n"):
            out += b"\n"
        out += b"\n"
    out += b"--" + boundary.encode() + b"--\n"
    return headers, bytes(out)


def param_2231(name, value):
    enc = "".join(chr(c) if chr(c).isalnum() and c < 128 or chr(c) in "-._" else "%%%02X" % c
                  for c in value.encode("utf-8"))
    if len(enc) <= 60:
        return "%s*=UTF-8''%s" % (name, enc)
    chunks, cur, i = [], "", 0
    while i < len(enc):
        tok = enc[i:i + 3] if enc[i] == "%" else enc[i]
        if len(cur) + len(tok) > 40:
            chunks.append(cur)
            cur = ""
        cur += tok
        i += len(tok)
    chunks.append(cur)
    out = []
    for k, c in enumerate(chunks):
        out.append("%s*%d*=%s%s" % (name, k, "UTF-8''" if k == 0 else "", c))
    return ";\n ".join(out)


def attachment_part(att, data, mua, charset, label, method, text_charset):
    ext = os.path.splitext(att.name)[1].lower()
    ctype = MIME_TYPES[ext]
    fname = att.name
    if is_ascii(fname):
        cparams = 'name="%s"' % fname
        dparams = 'filename="%s"' % fname
    elif mua in ("outlook", "zimbra"):
        ew = "".join(encoded_words(fname, charset, label, method, maxlen=200))
        cparams = 'name="%s"' % ew
        dparams = 'filename="%s"' % ew
    elif mua == "thunderbird":
        ew = "".join(encoded_words(fname, "utf-8", "UTF-8", "B", maxlen=200))
        cparams = 'name="%s"' % ew
        dparams = param_2231("filename", fname)
    else:
        cparams = param_2231("name", fname)
        dparams = param_2231("filename", fname)
    if ctype.startswith("text/"):
        ctype += "; charset=%s" % text_charset
    headers = [("Content-Type", "%s;\n %s" % (ctype, cparams)),
               ("Content-Disposition", "attachment;\n %s" % dparams),
               ("Content-Transfer-Encoding", "base64")]
    return headers, b64_body(data)


def render_attachment_data(att, msg_ctx):
    ext = os.path.splitext(att.name)[1].lower()
    local, off, author, where, cp = msg_ctx
    if ext == ".pdf":
        return make_pdf(att.title, att.text, local, off, where), None
    if ext == ".docx":
        return make_docx(att.title, att.text, author, local, off), None
    if ext == ".odt":
        return make_odt(att.title, att.text, author, local, off), None
    text = att.text
    if ext == ".txt" and att.title:
        text = att.title + "\n\n" + text
    text = text + "\n"
    if ext == ".csv":
        text = text.replace("\n", "\r\n")
    if cp == "windows-1250":
        return text.encode("windows-1250"), "windows-1250"
    return text.encode("utf-8"), "utf-8"


def validate(threads, attachments_by_file):
    for t in threads:
        w = "%s.txt:%d" % (t.fname, t.lineno + 1)
        topic = t.fields.get("topic")
        if topic is None or (topic not in TOPICS and topic != "-"):
            raise SourceError("%s: missing or unknown topic %r" % (w, topic))
        if not t.fields.get("subject"):
            raise SourceError("%s: thread without subject" % w)
        if not t.messages:
            raise SourceError("%s: thread without messages" % w)
        for m in t.messages:
            mw = "%s.txt:%d" % (t.fname, m.lineno + 1)
            m.where = mw
            f = m.fields
            if "from" not in f or "date" not in f:
                raise SourceError("%s: 'from:' and 'date:' are required" % mw)
            m.name, m.addr, m.domain = parse_addr(f["from"], mw)
            try:
                m.local = datetime.datetime.strptime(f["date"], "%Y-%m-%d %H:%M")
            except ValueError:
                raise SourceError("%s: bad date %r" % (mw, f["date"]))
            if m.local.year not in OUT_MBOX:
                raise SourceError("%s: date outside 2024-2025" % mw)
            enc = f.get("encoding", "utf8-8bit")
            if enc not in ENCODINGS:
                raise SourceError("%s: unknown encoding %r" % (mw, enc))
            m.encoding = enc
            if "reply-to" in f:
                try:
                    r = int(f["reply-to"])
                except ValueError:
                    raise SourceError("%s: bad reply-to %r" % (mw, f["reply-to"]))
                if not 1 <= r < m.number:
                    raise SourceError("%s: reply-to %d must name an earlier message" % (mw, r))
                m.parent = t.messages[r - 1]
                if m.local < m.parent.local:
                    raise SourceError("%s: reply dated before its parent" % mw)
            else:
                m.parent = None
                if m.number != 1:
                    raise SourceError("%s: only message 1 may lack reply-to" % mw)
                for k in ("quote", "prefix"):
                    if k in f:
                        raise SourceError("%s: %s: without reply-to" % (mw, k))
            for k in ("quote", "no-diacritics", "duplicate"):
                if k in f and f[k] not in ("yes", "no"):
                    raise SourceError("%s: %s: must be yes or no" % (mw, k))
            if "prefix" in f and f["prefix"] not in PREFIXES:
                raise SourceError("%s: unknown prefix %r" % (mw, f["prefix"]))
            if "mua" in f and f["mua"] not in MUA_VALUES:
                raise SourceError("%s: unknown mua %r" % (mw, f["mua"]))
            m.attach = []
            if f.get("attach"):
                for name in (x.strip() for x in f["attach"].split(",")):
                    atts = attachments_by_file[t.fname]
                    if name not in atts:
                        raise SourceError("%s: attachment %r not defined in this file" % (mw, name))
                    if os.path.splitext(name)[1].lower() not in ATTACH_EXT:
                        raise SourceError("%s: unsupported attachment type %r" % (mw, name))
                    m.attach.append(atts[name])
            if not m.body.strip():
                raise SourceError("%s: empty body" % mw)
            m.warnings = []
            if f.get("no-diacritics") == "yes" and POLISH_LETTERS & set(m.body):
                m.warnings.append("no-diacritics: yes but the body has Polish letters")
            if topic != "-" and m.domain not in PARTNERS:
                m.warnings.append("sender %s is outside the partner domains" % m.addr)
            if m.local.weekday() >= 5:
                m.warnings.append("sent on a weekend (%s)" % f["date"])
            m.extra_to = [parse_addr(x, mw) for x in f.get("to", "").split(",") if x.strip()]
            m.extra_cc = [parse_addr(x, mw) for x in f.get("cc", "").split(",") if x.strip()]


PREFIX_STRIP = {
    "re:": {"re:"}, "odp:": {"re:", "odp:"}, "fwd:": set(), "fw:": set(),
    "pd:": set(),
}


def reply_subject(prefix, parent_subject):
    strip = PREFIX_STRIP.get(prefix.lower(), set())
    s = parent_subject
    while True:
        m = re.match(r"^([A-Za-z]{2,3}:)\s*", s)
        if m and m.group(1).lower() in strip:
            s = s[m.end():]
            continue
        break
    return "%s %s" % (prefix, s)


def render_thread(t):
    tag = t.fields.get("tag")
    out = []
    for m in t.messages:
        f = m.fields
        seed = h40(t.fname, t.number, m.number)
        mua = f.get("mua") or None
        no_refs = mua == "outlook-no-refs"
        if no_refs:
            mua = "outlook"
        if not mua:
            choices = PARTNERS.get(m.domain, (None, None, None, MUAS))[3]
            mua = choices[hint("mua", m.addr) % len(choices)]
        m.mua = mua
        sec = int(seed[-2:], 16) % 60
        m.local = m.local.replace(second=sec)
        try:
            off = pl_offset_hours(m.local)
        except ValueError as e:
            raise SourceError("%s: %s" % (m.where, e))
        m.off = off
        m.utc = m.local - datetime.timedelta(hours=off)
        m.msgid = make_msgid(seed, mua, m.domain, m.local, m.utc)

        # subject: what the sender's client wrote, then what the list made of it
        if m.parent is None:
            sent_subject = t.fields["subject"]
        else:
            prefix = f.get("prefix") or ("RE:" if no_refs else "Re:")
            sent_subject = reply_subject(prefix, m.parent.list_subject)
        m.sent_subject = sent_subject
        if tag and tag not in sent_subject:
            m.list_subject = "%s %s" % (tag, sent_subject)
        else:
            m.list_subject = sent_subject

        # references
        if m.parent is not None:
            m.references = m.parent.references + [m.parent.msgid]
        else:
            m.references = []

        enc = m.encoding
        charset = {"iso2-qp": "iso-8859-2", "html-iso2": "iso-8859-2",
                   "cp1250-b64": "windows-1250", "cp1250-mislabel": "windows-1250"}.get(enc, "utf-8")
        labels = CHARSET_NAMES[charset]
        label = labels[0] if mua in ("outlook", "thunderbird") else labels[hint("lbl", seed) % 2]
        method = {"outlook": "Q", "thunderbird": "B"}.get(mua, "BQ"[hint("bq", seed) % 2])
        if hint("bq2", seed) % 4 == 0:
            method = "B" if method == "Q" else "Q"
        # header charset: the body's one when every header text fits in it
        # (a client falls back to UTF-8 for, say, an en dash in ISO-8859-2)
        hcharset, hlabel = charset, label
        header_texts = ([m.list_subject, m.sent_subject, m.name]
                        + [n for n, _, _ in m.extra_to + m.extra_cc]
                        + [a.name for a in m.attach])
        try:
            for x in header_texts:
                x.encode(charset)
        except UnicodeEncodeError:
            hcharset = "utf-8"
            hlabel = CHARSET_NAMES["utf-8"][0]

        # text of the message
        wrap = enc in ("utf8-8bit", "cp1250-mislabel", "iso2-qp")
        author = m.body
        if charset == "iso-8859-2":
            author = author.translate(ISO2_FALLBACK)
        if wrap:
            author = wrap_text(author)
        body_has_sig = any(line == "-- " or line == "--" for line in author.split("\n"))
        sig = None if body_has_sig else signature_lines(m.name, m.addr, m.domain)
        attribution, quoted = None, None
        if f.get("quote") == "yes":
            p = m.parent
            if (f.get("prefix") or "").lower() in ("fwd:", "fw:", "pd:"):
                attribution = "-------- Przekazana wiadomość --------"
                quoted = None
                fwd_head = ["Temat: \t%s" % p.list_subject,
                            "Data: \t%s" % rfc5322_date(p.local, p.off),
                            "Od: \t%s <%s>" % (p.name, p.addr),
                            "Do: \t%s" % LIST_ADDR]
                m.forward = (fwd_head, p.plain)
            else:
                attribution = "W dniu %02d.%02d.%d o %02d:%02d, %s pisze:" % (
                    p.local.day, p.local.month, p.local.year, p.local.hour,
                    p.local.minute, p.name)
                src = p.plain.split("\n")
                if "-- " in src:
                    src = src[:src.index("-- ")]
                while src and not src[-1].strip():
                    src.pop()
                quoted = "\n".join(src)
                m.forward = None
        else:
            m.forward = None
        plain = author
        if sig:
            plain += "\n\n-- \n" + "\n".join(sig)
        if attribution and m.forward:
            head, fbody = m.forward
            plain += "\n\n\n" + attribution + "\n" + "\n".join(head) + "\n\n" + fbody
        elif attribution:
            plain += "\n\n" + attribution + "\n" + "\n".join(
                ("> " + x) if x and not x.startswith(">") else (">" + x if x.startswith(">") else ">")
                for x in quoted.split("\n"))
        if charset != "utf-8":
            plain = plain.translate(ISO2_FALLBACK) if charset == "iso-8859-2" else plain
        m.plain = plain
        for line in plain.split("\n"):
            if len(line.encode("utf-8")) > 990:
                raise SourceError("%s: line longer than 990 bytes; split the paragraph" % m.where)

        # HTML version (for html-only, html-iso2, alternative)
        def html_version(meta_charset):
            q = quoted
            a = attribution
            if m.forward:
                head, fbody = m.forward
                q = "\n".join(head) + "\n\n" + fbody
            builder = outlook_html if mua == "outlook" else generic_html
            return builder(m.body if not wrap else author, sig, a, q, meta_charset)

        # body part(s)
        if enc in ("utf8-8bit", "utf8-qp", "utf8-b64"):
            data = plain.encode("utf-8")
            cte = {"utf8-8bit": "8bit", "utf8-qp": "quoted-printable", "utf8-b64": "base64"}[enc]
            payload = {"8bit": lambda d: d, "quoted-printable": qp_body, "base64": b64_body}[cte](data)
            ctype = "text/plain; charset=%s" % (label if mua != "outlook" else '"utf-8"')
            if mua == "thunderbird" and cte == "8bit":
                ctype = "text/plain; charset=UTF-8"
            body_part = ([("Content-Type", ctype), ("Content-Transfer-Encoding", cte)], payload)
        elif enc == "iso2-qp":
            _, data = to_charset(plain, "iso-8859-2", m.where)
            body_part = ([("Content-Type", "text/plain; charset=%s" % label),
                          ("Content-Transfer-Encoding", "quoted-printable")], qp_body(data))
        elif enc == "cp1250-b64":
            _, data = to_charset(plain, "windows-1250", m.where)
            body_part = ([("Content-Type", 'text/plain; charset="%s"' % label),
                          ("Content-Transfer-Encoding", "base64")], b64_body(data))
        elif enc == "cp1250-mislabel":
            _, data = to_charset(plain, "windows-1250", m.where)
            if hint("mis", seed) % 3 == 0:
                body_part = ([("Content-Type", "text/plain; charset=iso-8859-1"),
                              ("Content-Transfer-Encoding", "quoted-printable")], qp_body(data))
            else:
                body_part = ([("Content-Type", "text/plain; charset=iso-8859-1"),
                              ("Content-Transfer-Encoding", "8bit")],
                             data if data.endswith(b"\n") else data + b"\n")
        elif enc == "html-only":
            data = html_version("utf-8").encode("utf-8")
            body_part = ([("Content-Type", "text/html; charset=%s" % ('"utf-8"' if mua == "outlook" else label)),
                          ("Content-Transfer-Encoding", "quoted-printable")], qp_body(data))
        elif enc == "html-iso2":
            doc = html_version("iso-8859-2")
            data = doc.encode("iso-8859-2", "xmlcharrefreplace")
            if hint("h2", seed) % 2:
                body_part = ([("Content-Type", "text/html"),
                              ("Content-Transfer-Encoding", "quoted-printable")], qp_body(data))
            else:
                body_part = ([("Content-Type", "text/html"),
                              ("Content-Transfer-Encoding", "8bit")], data)
        else:  # alternative
            pdata = plain.encode("utf-8")
            hdata = html_version("utf-8").encode("utf-8")
            lbl = '"utf-8"' if mua == "outlook" else label
            alt_parts = [([("Content-Type", "text/plain; charset=%s" % lbl),
                           ("Content-Transfer-Encoding", "quoted-printable")], qp_body(pdata)),
                         ([("Content-Type", "text/html; charset=%s" % lbl),
                           ("Content-Transfer-Encoding", "quoted-printable")], qp_body(hdata))]
            body_part = multipart("alternative", alt_parts,
                                  make_boundary(seed, mua, m.local, m.utc, "alt"),
                                  preamble=not m.attach)

        m.attach_info = []
        if m.attach:
            parts = [body_part]
            for att in m.attach:
                data, tcs = render_attachment_data(
                    att, (m.local, off, m.name, "%s.txt:%d" % (t.fname, att.lineno + 1), charset))
                parts.append(attachment_part(att, data, mua, hcharset, hlabel, method, tcs))
                m.attach_info.append((att.name, len(data)))
            top_headers, top_payload = multipart("mixed", parts,
                                                 make_boundary(seed, mua, m.local, m.utc, "mixed"))
        else:
            top_headers, top_payload = body_part

        # header fields
        subj_style = "whole" if mua in ("outlook", "thunderbird") else "words"
        split_name = hint("split", seed) % 4 == 0
        quote_ascii = mua == "outlook"

        def addr_of(name, addr):
            return format_addr(name, addr, hcharset, hlabel, method, split_name, quote_ascii)

        def subject_header(subject):
            return fold("Subject", encode_subject(subject, hcharset, hlabel, method, subj_style))

        to_list = ["Praktyki JST <%s>" % LIST_ADDR if hint("to", seed) % 3 == 0 else LIST_ADDR]
        to_list += [addr_of(n, a) for n, a, _ in m.extra_to]
        cc_list = [addr_of(n, a) for n, a, _ in m.extra_cc]
        common = [("From", addr_of(m.name, m.addr)),
                  ("To", fold("To", [x + "," for x in to_list[:-1]] + [to_list[-1]]))]
        if cc_list:
            common.append(("Cc", fold("Cc", [x + "," for x in cc_list[:-1]] + [cc_list[-1]])))
        refs = []
        if m.parent is not None and not no_refs:
            refs.append(("In-Reply-To", m.parent.msgid))
            refs.append(("References", "References: " + "\n ".join(m.references)))
        tail = [("Date", rfc5322_date(m.local, off)), ("Message-ID", m.msgid)] + refs
        tail += [("MIME-Version", "1.0")] + mua_headers(mua, m.local, seed)
        tail += top_headers
        list_headers = [("List-Id", LIST_ID),
                        ("List-Post", "<mailto:%s>" % LIST_ADDR),
                        ("List-Unsubscribe", "<mailto:praktyki+unsubscribe@lista.example>"),
                        ("Precedence", "list")]

        def assemble(subject, with_list):
            hs = list(common)
            hs.append(("Subject", subject_header(subject)))
            hs += tail
            if with_list:
                hs += list_headers
            return hdr_block(hs) + b"\n" + top_payload

        copies = [assemble(m.list_subject, True)]
        if f.get("duplicate") == "yes":
            copies.append(assemble(m.sent_subject, False))
        m.copies = copies
        out.append(m)
    return out


# --------------------------------------------------------------------------
# mboxrd

FROM_RE = re.compile(rb"^(>*From )", re.M)


def mboxrd_entry(envelope_from, utc, raw):
    if not raw.endswith(b"\n"):
        raw += b"\n"
    body = FROM_RE.sub(rb">\1", raw)
    return b"From " + envelope_from.encode() + b" " + asctime(utc).encode() + b"\n" + body + b"\n"


def load_and_render():
    """Parse, check and render every source; returns (sources, threads, messages)."""
    sources = sorted(f for f in os.listdir(THREADS_DIR) if f.endswith(".txt"))
    all_threads = []
    atts_by_file = {}
    inputs = []
    for f in sources:
        with open(os.path.join(THREADS_DIR, f), encoding="utf-8") as fh:
            inputs.append((os.path.splitext(f)[0], fh.read()))
    inputs.append((EXTERNAL_NAME, EXTERNAL_SOURCE))
    for fname, text in inputs:
        threads, atts = parse_source(fname, text)
        atts_by_file[fname] = atts
        all_threads.extend(threads)
    validate(all_threads, atts_by_file)
    rendered = []
    for t in all_threads:
        rendered.extend(render_thread(t))
    return sources, all_threads, rendered


def main(argv):
    try:
        sources, all_threads, rendered = load_and_render()
    except SourceError as e:
        print("generate.py: error: %s" % e, file=sys.stderr)
        return 1

    ids = {}
    for m in rendered:
        if m.msgid in ids:
            print("generate.py: error: Message-ID collision %s" % m.msgid, file=sys.stderr)
            return 1
        ids[m.msgid] = m
    for m in rendered:
        for w in m.warnings:
            print("generate.py: warning: %s: %s" % (m.where, w), file=sys.stderr)

    order = sorted(rendered, key=lambda m: (m.utc, m.thread.fname, m.thread.number, m.number))
    boxes = {y: bytearray() for y in OUT_MBOX}
    counts = {y: 0 for y in OUT_MBOX}
    manifest = ["message_id\tthread\ttopic\tfile"]
    for m in order:
        y = m.local.year
        for k, raw in enumerate(m.copies):
            boxes[y] += mboxrd_entry(m.addr, m.utc + datetime.timedelta(seconds=7 * k), raw)
            counts[y] += 1
        manifest.append("%s\t%s\t%s\t%s" % (m.msgid.strip("<>"), m.thread.key,
                                            m.thread.fields["topic"], OUT_MBOX[y]))
    for y, name in OUT_MBOX.items():
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(bytes(boxes[y]))
    with open(os.path.join(HERE, OUT_MANIFEST), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(manifest) + "\n")

    # summary
    print("Skarbnica demo corpus: %d source files, %d threads, %d messages (%d with duplicates)"
          % (len(sources), len(all_threads), len(rendered), sum(counts.values())))
    for y, name in OUT_MBOX.items():
        print("  %-22s %4d messages  %8d bytes" % (name, counts[y], len(boxes[y])))
    print("  %-22s %4d rows" % (OUT_MANIFEST, len(manifest) - 1))
    print("Per topic (threads / messages):")
    topics = {}
    for t in all_threads:
        tt = topics.setdefault(t.fields["topic"], [0, 0])
        tt[0] += 1
        tt[1] += len(t.messages)
    for k in sorted(topics, key=lambda x: (TOPICS.index(x) if x in TOPICS else 99)):
        print("  %-20s %3d / %3d" % (k, topics[k][0], topics[k][1]))
    print("Per encoding:")
    encs = {}
    for m in rendered:
        encs[m.encoding] = encs.get(m.encoding, 0) + 1
    for e in ENCODINGS:
        print("  %-16s %3d" % (e, encs.get(e, 0)))
    print("Per mail client:")
    muas = {}
    for m in rendered:
        k = m.mua + (" (no refs)" if m.fields.get("mua") == "outlook-no-refs" else "")
        muas[k] = muas.get(k, 0) + 1
    for k in sorted(muas):
        print("  %-22s %3d" % (k, muas[k]))
    nodia = sum(1 for m in rendered if m.fields.get("no-diacritics") == "yes")
    dups = sum(1 for m in rendered if m.fields.get("duplicate") == "yes")
    quotes = sum(1 for m in rendered if m.fields.get("quote") == "yes")
    print("Other: %d quoted replies, %d without diacritics, %d duplicated"
          % (quotes, nodia, dups))
    atts = [(m, a) for m in rendered for a in m.attach_info]
    kinds = {}
    for _, (name, _) in atts:
        e = os.path.splitext(name)[1].lower()
        kinds[e] = kinds.get(e, 0) + 1
    print("Attachments: %d (%s)" % (len(atts), ", ".join("%s %d" % (k, v) for k, v in sorted(kinds.items()))))
    for m, (name, size) in atts:
        print("  %-48s %7d bytes  %s" % (name, size, m.where))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

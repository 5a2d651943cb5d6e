"""Random seeded MEI scores for the staff-removal ground truth, one generator per notation.

- ``cwmn_mei``: common Western notation, 4/4 measures with notes (ledger
  lines), chords, beamed eighths, accidentals, rests, half and whole notes;
- ``mensural_mei``: white or black mensural notation without measures:
  maxima to fusa, ligatures, rests, dots of division, accidentals, mensuration
  signs, ledger lines, on 5- or 4-line staves;
- ``chant_mei``: square (neume) notation as the Neon editor shows it: one
  4-line staff, C and F clefs, syllables with text and neumes of one to four
  components (puncta, inclinata, virgae, ligatures, liquescents, quilismas,
  oriscus), flats and naturals, custodes, division lines.

Every generator takes a NumPy generator and returns a whole MEI document
as a string; the same generator state gives the same score.
"""

STEPS = "cdefgab"

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><mei xmlns="http://www.music-encoding.org/ns/mei" meiversion="5.1">'
    "<meiHead><fileDesc><titleStmt><title/></titleStmt><pubStmt/></fileDesc></meiHead>"
)


def _document(staff_defs, section):
    """An MEI document of one score with these staff definitions and this section content."""
    return (
        f"{_HEAD}<music><body><mdiv><score><scoreDef><staffGrp>{staff_defs}</staffGrp></scoreDef>"
        f"<section>{section}</section></score></mdiv></body></music></mei>"
    )


def _pitch_name(step):
    """``pname`` and ``oct`` attributes of a diatonic step number (octave * 7 + index of the letter)."""
    return f'pname="{STEPS[step % 7]}" oct="{step // 7}"'


def _bottom_line(shape, line):
    """Diatonic step of the bottom staff line under clef ``shape`` on ``line`` (1 = bottom line)."""
    clef_pitch = {"G": 4 * 7 + 4, "C": 4 * 7, "F": 3 * 7 + 3}[shape]  # g4, c4, f3
    return clef_pitch - 2 * (line - 1)


# Common Western music notation ---------------------------------------------


def _cwmn_pitch(rng, clef):
    """A pitch from a ledger line below to two ledger lines above the staff, as (pname, oct)."""
    low = 4 * 7 + 5 if clef == "G" else 2 * 7 + 0  # a3 / c2 as diatonic step numbers
    step = low + int(rng.integers(0, 17))
    return STEPS[step % 7], step // 7


def _cwmn_note(rng, clef, dur=None, with_dur=True):
    """A note, with an accidental one time in five; chord members carry no duration of their own."""
    pname, octave = _cwmn_pitch(rng, clef)
    accid = f' accid="{rng.choice(["s", "f", "n"])}"' if rng.random() < 0.2 else ""
    duration = f' dur="{dur}"' if with_dur and dur else ""
    return f'<note pname="{pname}" oct="{octave}"{duration}{accid}/>'


def _cwmn_beat(rng, clef, beats_left):
    """One event of a 4/4 layer and the beats it takes."""
    roll = rng.random()
    if beats_left >= 4 and roll < 0.05:
        return _cwmn_note(rng, clef, 1), 4
    if beats_left >= 2 and roll < 0.2:
        return _cwmn_note(rng, clef, 2), 2
    if roll < 0.45:
        notes = "".join(_cwmn_note(rng, clef, 8) for _ in range(2 if rng.random() < 0.7 else 4))
        return f"<beam>{notes}</beam>", 1 if notes.count("<note") == 2 else 2
    if roll < 0.6:
        chord = "".join(_cwmn_note(rng, clef, with_dur=False) for _ in range(int(rng.integers(2, 4))))
        return f'<chord dur="4">{chord}</chord>', 1
    if roll < 0.68:
        return '<rest dur="4"/>', 1
    return _cwmn_note(rng, clef, 4), 1


def _cwmn_layer(rng, clef):
    """One full 4/4 measure of events for one staff."""
    events, beats = [], 4
    while beats > 0:
        event, used = _cwmn_beat(rng, clef, beats)
        if used > beats:
            continue
        events.append(event)
        beats -= used
    return "".join(events)


def cwmn_mei(rng, staves=1, lines=5, measures=40):
    """A random 4/4 score of ``measures`` measures on ``staves`` staves of ``lines`` lines."""
    clefs = ["G" if k == 0 or rng.random() < 0.5 else "F" for k in range(staves)]
    defs = "".join(
        f'<staffDef n="{k + 1}" lines="{lines}" clef.shape="{c}" clef.line="{2 if c == "G" else 4}" '
        'meter.count="4" meter.unit="4"/>'
        for k, c in enumerate(clefs)
    )
    body = "".join(
        f'<measure n="{m + 1}">'
        + "".join(f'<staff n="{k + 1}"><layer n="1">{_cwmn_layer(rng, c)}</layer></staff>' for k, c in enumerate(clefs))
        + "</measure>"
        for m in range(measures)
    )
    return _document(defs, body)


# Mensural notation ----------------------------------------------------------

#: Note values and how often they occur (the breve to the minim carry most music).
MENSURAL_DURATIONS = {
    "maxima": 0.02,
    "longa": 0.08,
    "brevis": 0.25,
    "semibrevis": 0.3,
    "minima": 0.25,
    "semiminima": 0.07,
    "fusa": 0.03,
}
MENSURAL_CLEFS = [("C", 1), ("C", 2), ("C", 3), ("C", 4), ("F", 3), ("F", 4), ("G", 2)]


def _mensural_note(rng, bottom, lines, dur):
    """A note from three steps below to three steps above the staff (ledger lines), sometimes with an accidental."""
    step = bottom + int(rng.integers(-3, 2 * (lines - 1) + 4))
    accid = f' accid="{rng.choice(["f", "s", "n"])}"' if rng.random() < 0.12 else ""
    return f'<note {_pitch_name(step)} dur="{dur}"{accid}/>'


def _mensural_event(rng, bottom, lines):
    """One event of a mensural layer: a note, a rest, a dot of division, a ligature or a new mensuration sign."""
    roll = rng.random()
    if roll < 0.1:
        return f'<rest dur="{rng.choice(["longa", "brevis", "semibrevis", "minima", "semiminima"])}"/>'
    if roll < 0.16:
        notes = "".join(
            _mensural_note(rng, bottom, lines, rng.choice(["brevis", "longa", "semibrevis"]))
            for _ in range(int(rng.integers(2, 4)))
        )
        return f'<ligature form="{rng.choice(["recta", "obliqua"])}">{notes}</ligature>'
    if roll < 0.17:
        slash = ' slash="1"' if rng.random() < 0.5 else ""
        return f'<mensur sign="{rng.choice(["C", "O"])}"{slash}/>'
    note = _mensural_note(rng, bottom, lines, rng.choice(list(MENSURAL_DURATIONS), p=list(MENSURAL_DURATIONS.values())))
    return note + ("<dot/>" if rng.random() < 0.08 else "")


def mensural_mei(rng, staves=1, lines=5, events=120, black=False, chunk=8):
    """A random mensural score: ``staves`` voices of ``events`` events each, without measures.

    The voices are cut into sections of ``chunk`` events: verovio breaks
    systems only between sections when a score has several staves.
    """
    clefs = [MENSURAL_CLEFS[int(rng.integers(len(MENSURAL_CLEFS)))] for _ in range(staves)]
    notation = "mensural.black" if black else "mensural.white"
    sign = rng.choice(["C", "O"])
    defs = "".join(
        f'<staffDef n="{k + 1}" lines="{lines}" notationtype="{notation}" clef.shape="{shape}" clef.line="{line}" '
        f'mensur.sign="{sign}"/>'
        for k, (shape, line) in enumerate(clefs)
    )
    voices = [[_mensural_event(rng, _bottom_line(shape, line), lines) for _ in range(events)] for shape, line in clefs]
    sections = "".join(
        "<section>"
        + "".join(f'<staff n="{k + 1}"><layer n="1">{"".join(voice[start : start + chunk])}</layer></staff>' for k, voice in enumerate(voices))
        + "</section>"
        for start in range(0, events, chunk)
    )
    return _document(defs, sections)


# Square (neume) notation ----------------------------------------------------

CHANT_CLEFS = [("C", 2), ("C", 3), ("C", 4), ("F", 2), ("F", 3)]
CONSONANTS = ["", "b", "c", "d", "f", "g", "l", "m", "n", "p", "qu", "r", "s", "t", "v", "gl", "pr", "tr", "sp"]
VOWELS = ["a", "e", "i", "o", "u", "ae", "is", "um", "us", "am", "em", "on"]


def _chant_component(rng, step, previous):
    """One neume component (``nc``) at ``step``, with an ornament or shape now and then."""
    roll = rng.random()
    if previous is not None and step < previous and roll < 0.25:
        return f'<nc {_pitch_name(step)} tilt="se"/>'  # punctum inclinatum of a descent
    if previous is None and roll < 0.1:
        return f'<nc {_pitch_name(step)} tilt="n"/>'  # virga
    if roll < 0.05:
        return f"<nc {_pitch_name(step)}><{rng.choice(['liquescent', 'quilisma', 'oriscus'])}/></nc>"
    return f"<nc {_pitch_name(step)}/>"


def _chant_neume(rng, low, high):
    """A neume of one to four components moving by steps and small leaps inside ``low..high``."""
    size = int(rng.choice([1, 1, 2, 2, 3, 4]))
    step = int(rng.integers(low, high + 1))
    if size == 2 and rng.random() < 0.2 and step - 1 >= low:  # two-note descending ligature
        return f'<neume><nc {_pitch_name(step)} ligated="true"/><nc {_pitch_name(step - 1)} ligated="true"/></neume>'
    components, previous = [], None
    for _ in range(size):
        components.append(_chant_component(rng, step, previous))
        previous = step
        step = min(high, max(low, step + int(rng.choice([-2, -1, -1, 1, 1, 2, 3]))))
    return "<neume>" + "".join(components) + "</neume>"


def _chant_event(rng, low, high):
    """One element of a chant layer: mostly a syllable, sometimes a flat or natural on B, a custos or a division."""
    roll = rng.random()
    if roll < 0.04:
        b = int(rng.choice([step for step in range(low, high + 1) if step % 7 == 6]))
        return f'<accid accid="{rng.choice(["f", "n"])}" ploc="b" oloc="{b // 7}"/>'
    if roll < 0.07:
        return f'<custos {_pitch_name(int(rng.integers(low, high + 1)))}/>'
    if roll < 0.12:
        return f'<divLine form="{rng.choice(["minima", "maior", "maxima", "finalis"])}"/>'
    text = rng.choice(CONSONANTS) + rng.choice(VOWELS)
    neumes = "".join(_chant_neume(rng, low, high) for _ in range(int(rng.choice([1, 1, 1, 2]))))
    return f"<syllable><syl>{text}</syl>{neumes}</syllable>"


def chant_mei(rng, syllables=150):
    """A random chant in square notation on 4-line staves: about ``syllables`` events under one clef."""
    shape, line = CHANT_CLEFS[int(rng.integers(len(CHANT_CLEFS)))]
    bottom = _bottom_line(shape, line)
    low, high = bottom - 1, bottom + 2 * 3 + 1  # a step outside the staff at most: neumes get no ledger lines
    defs = f'<staffDef n="1" lines="4" notationtype="neume" clef.shape="{shape}" clef.line="{line}"/>'
    layer = "".join(_chant_event(rng, low, high) for _ in range(syllables))
    return _document(defs, f'<staff n="1"><layer n="1">{layer}</layer></staff>')

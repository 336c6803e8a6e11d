"""Segments that fit no theme: the cold start's examples of "none of the codes".

A model trained on a codebook alone has seen only texts that belong to some code. With many codes, each code's
texts are the others' negatives; with one or two codes there is nothing to learn "none" from (with two codes,
"not bolig" would mean "økonomi"), and the model codes nearly every segment. These short turns and notes —
small talk, moderator prompts, interview logistics, method remarks, in Bokmål and Nynorsk — are written for
qualkit and are added as segments with no code. Any of them that matches a code's keywords is left out for that
codebook (it may be on topic there). Used for codebooks of one or two codes
(:func:`qualkit.classify.features.neutral_texts`).
"""

from __future__ import annotations

NEUTRAL_TEXTS: tuple[str, ...] = (
    # small talk and replies without content
    "Ja, det stemmer nok.",
    "Nei, det tror jeg ikke.",
    "Mm, akkurat.",
    "Ja, det er riktig det du sier.",
    "Det vet jeg faktisk ikke.",
    "Det må jeg tenke litt på.",
    "Godt spørsmål.",
    "Hehe, ja.",
    "Ja, ja. Nettopp.",
    "Nei, eg veit ikkje heilt.",
    "Ja, det er rett.",
    "Det kan eg ikkje svare på.",
    "Takk for at dere kom i dag.",
    "Takk for praten, dette var nyttig.",
    "Velkommen, alle sammen. Finn dere en stol.",
    "Takk skal du ha.",
    "Vil noen ha mer kaffe før vi fortsetter?",
    "Det regner visst hele uka.",
    "Ver så god, forsyn dykk med kaffi og kake.",
    "Takk for at du ville vere med.",
    # moderator prompts without a theme
    "Kan du si litt mer om det?",
    "Hva tenker dere andre om dette?",
    "Har noen noe å legge til før vi går videre?",
    "Kan du gi et eksempel?",
    "Hva mener du med det?",
    "Vi går videre til neste spørsmål.",
    "Er det noe vi ikke har snakket om som du vil ta opp?",
    "Kan du fortelje litt om deg sjølv?",
    "Kva tenkjer de andre om det?",
    "Har nokon noko å leggje til?",
    "Kva meiner du med det?",
    "Vi tek eit nytt spørsmål.",
    # logistics and method
    "Vi tar opp samtalen, og lydfilen slettes når prosjektet er ferdig.",
    "Er det greit at jeg slår på opptakeren nå?",
    "Intervjuet tok omtrent en time og ble gjort på et møterom.",
    "Vi har rundt en halvtime igjen.",
    "Vi tar en kort pause og starter igjen om ti minutter.",
    "Alle navn i utskriften er endret.",
    "Jeg heter Kari og har vært med på dette i to år.",
    "Det er fire deltakere i gruppa i dag.",
    "Utskrifta er gjord ordrett, med pausar markerte.",
    "Vi byrjar om fem minutt.",
    "Samtalen vart teken opp og skriven ut etterpå.",
    "Rapporten bygger på intervjuer og dokumentstudier.",
    "Kapittel 3 beskriver metoden, og kapittel 4 presenterer funnene.",
    "Utvalget ble trukket slik at ulike deler av landet er representert.",
    "Tabellen viser fordelingen av svarene etter alder.",
    "Figur 2 viser utviklingen fra 2015 til 2022.",
    "Dette kapittelet oppsummerer hovedfunnene.",
    "Informantene er anonymisert, og sitatene er gjengitt med deres tillatelse.",
    "Spørreskjemaet ble sendt ut i februar, og svarprosenten var 48.",
    "Kapittel 2 gjer greie for datagrunnlaget.",
    # off topic
    "Vi har nettopp kommet tilbake fra ferie.",
    "Bussen var forsinket i dag, så jeg kom litt sent.",
    "Det er mye snø her oppe om vinteren.",
    "Eg kjem frå ei lita bygd lenger nord.",
    "Ungane har vinterferie neste veke.",
    "Fotballkampen i går var spennende.",
)

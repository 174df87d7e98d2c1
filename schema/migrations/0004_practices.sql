-- 0004_practices.sql: topics and practices (issue 5) — the topic model
-- learnt from confirmed labels, "start here" pins, good-practice records,
-- an audit trail that can be undone, the glossary of acronyms for new
-- staff, and the indexes that keep browsing by topic, partner and quarter
-- fast on a large archive.

-- ---- the topic model (index/classify.c) ----------------------------------
-- Multinomial naive Bayes counts. A label is (message, topic), from a
-- coordinator's manual topic on the message's thread (or on the message);
-- topic_model_labels lists the labels counted, so that taking a label back
-- subtracts exactly what it added. Deleting messages leaves their counts:
-- sk_index_model_rebuild() recounts.
CREATE TABLE topic_model_labels (
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	PRIMARY KEY (message_id, topic_id)
) WITHOUT ROWID;

CREATE TABLE topic_model_terms (
	topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	term TEXT NOT NULL,        -- a folded lemma (index/analyze.c)
	n INTEGER NOT NULL,        -- occurrences in the topic's labelled text
	PRIMARY KEY (topic_id, term)
) WITHOUT ROWID;

CREATE TABLE topic_model_docs (
	topic_id INTEGER PRIMARY KEY REFERENCES topics(id) ON DELETE CASCADE,
	docs INTEGER NOT NULL DEFAULT 0,   -- labelled messages
	tokens INTEGER NOT NULL DEFAULT 0  -- sum of n
);

-- The label queries read only the manual rows.
CREATE INDEX thread_topics_manual ON thread_topics(thread_id, topic_id)
	WHERE source = 'manual';
CREATE INDEX message_topics_manual ON message_topics(message_id, topic_id)
	WHERE source = 'manual';

-- Messages whose Xapian document is out of date because a writer without
-- a Xapian handle (the web's curation handle) changed their thread or its
-- topics. The next writer with a Xapian handle re-puts and deletes them.
CREATE TABLE xapian_pending (
	message_id INTEGER PRIMARY KEY
);

-- ---- curation --------------------------------------------------------------
-- "Start here" threads of a topic, in the coordinator's order.
CREATE TABLE topic_pins (
	topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
	position INTEGER NOT NULL DEFAULT 0,
	note TEXT NOT NULL DEFAULT '',   -- why to read it, one line
	pinned_by TEXT NOT NULL,
	pinned_at INTEGER NOT NULL,
	PRIMARY KEY (topic_id, thread_id)
) WITHOUT ROWID;
CREATE INDEX topic_pins_thread ON topic_pins(thread_id);

-- Good-practice records: the fields of the Polish Bank of Good Practices
-- (tytuł, samorząd, obszar, problem, rozwiązanie, efekty, koszty, osoba do
-- kontaktu, załączniki) and of Interreg Europe's good-practice database
-- (timescale, stakeholders, difficulties/lessons). The contact person is
-- shown to logged-in partners only (index/curate.c).
CREATE TABLE practices (
	id INTEGER PRIMARY KEY,
	title TEXT NOT NULL,
	partner_id INTEGER REFERENCES partners(id) ON DELETE SET NULL,
	problem TEXT NOT NULL DEFAULT '',
	solution TEXT NOT NULL DEFAULT '',
	results TEXT NOT NULL DEFAULT '',
	costs TEXT NOT NULL DEFAULT '',         -- costs and sources of funding
	period TEXT NOT NULL DEFAULT '',        -- when: "2023-2024"
	stakeholders TEXT NOT NULL DEFAULT '',  -- who took part
	lessons TEXT NOT NULL DEFAULT '',       -- difficulties, what to repeat
	contact_name TEXT NOT NULL DEFAULT '',
	contact_email TEXT NOT NULL DEFAULT '',
	source_thread_id INTEGER REFERENCES threads(id) ON DELETE SET NULL,
	status TEXT NOT NULL DEFAULT 'draft'
		CHECK (status IN ('draft', 'validated', 'archived')),
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_by TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX practices_status ON practices(status, updated_at);
CREATE INDEX practices_partner ON practices(partner_id, updated_at);
CREATE INDEX practices_thread ON practices(source_thread_id);

CREATE TABLE practice_topics (
	practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
	topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	PRIMARY KEY (practice_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX practice_topics_topic ON practice_topics(topic_id, practice_id);

CREATE TABLE practice_attachments (
	practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
	attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
	position INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (practice_id, attachment_id)
) WITHOUT ROWID;

-- Every curation change: old and new values as JSON, so that it can be
-- undone (sk_index_audit_undo). An undo is itself a row (undo_of), and
-- the row it undid points at it (undone_by).
ALTER TABLE audit ADD COLUMN old_json TEXT;
ALTER TABLE audit ADD COLUMN new_json TEXT;
ALTER TABLE audit ADD COLUMN undo_of INTEGER REFERENCES audit(id);
ALTER TABLE audit ADD COLUMN undone_by INTEGER REFERENCES audit(id);
CREATE INDEX audit_object ON audit(object, id);

-- ---- browsing --------------------------------------------------------------
-- Threads by quarter (of their first message), threads by partner (the
-- threads a partner's mail is in, without reading the messages), and held
-- mail by date: few rows, so "what readers see" is counted as everything
-- minus the held part instead of checking every message (index/curate.c;
-- the WHERE is written as in 0001's messages_held, which queries match).
CREATE INDEX threads_first_date ON threads(first_date);
CREATE INDEX messages_partner_thread ON messages(partner_id, thread_id);
CREATE INDEX messages_held_date ON messages(date, thread_id)
	WHERE flags & 8 AND approved_at IS NULL;

-- ---- the glossary for new staff ("Dla nowych pracowników") ----------------
CREATE TABLE glossary (
	term TEXT PRIMARY KEY COLLATE NOCASE,  -- the acronym as written
	expansion TEXT NOT NULL,               -- what it stands for
	description TEXT NOT NULL DEFAULT '',  -- one or two sentences
	topic TEXT NOT NULL DEFAULT ''         -- a topic slug, or ''
);
INSERT INTO glossary(term, expansion, description, topic) VALUES
('BIP', 'Biuletyn Informacji Publicznej', 'Urzędowy publikator teleinformatyczny, w którym urząd udostępnia informację publiczną: uchwały, zarządzenia, ogłoszenia o naborze, przetargi, oświadczenia majątkowe.', 'bip'),
('BDO', 'Baza danych o produktach i opakowaniach oraz o gospodarce odpadami', 'Rejestr i system sprawozdawczy prowadzony przez marszałków województw; przez BDO gmina składa roczne sprawozdanie o odpadach komunalnych.', 'odpady'),
('CAF', 'Common Assessment Framework (Wspólna Metoda Oceny)', 'Europejski model samooceny jakości zarządzania w administracji publicznej: dziewięć kryteriów, grupa samooceny, plan doskonalenia.', 'jakosc'),
('CST2021', 'Centralny system teleinformatyczny 2021-2027', 'System, w którym beneficjenci funduszy UE składają wnioski o płatność i rozliczają projekty perspektywy 2021-2027.', 'fundusze-ue'),
('e-Doręczenia', 'Elektroniczne doręczenia', 'Publiczna usługa doręczeń elektronicznych z potwierdzeniem odbioru, odpowiednik listu poleconego; obowiązkowa dla urzędów.', 'obieg-dokumentow'),
('ePUAP', 'Elektroniczna Platforma Usług Administracji Publicznej', 'Platforma, przez którą mieszkańcy składają pisma do urzędu (profil zaufany, elektroniczna skrzynka podawcza).', 'obieg-dokumentow'),
('EZD', 'Elektroniczne zarządzanie dokumentacją', 'Sposób wykonywania czynności kancelaryjnych w systemie teleinformatycznym; EZD RP to bezpłatny system udostępniany przez NASK.', 'obieg-dokumentow'),
('FEnIKS', 'Fundusze Europejskie na Infrastrukturę, Klimat, Środowisko 2021-2027', 'Krajowy program funduszy UE, następca POIiŚ: m.in. gospodarka wodno-ściekowa, efektywność energetyczna, transport.', 'fundusze-ue'),
('GOPS', 'Gminny Ośrodek Pomocy Społecznej', 'Jednostka gminy realizująca pomoc społeczną: świadczenia, usługi opiekuńcze, asystent rodziny (w mieście: MOPS).', 'pomoc-spoleczna'),
('IOD', 'Inspektor ochrony danych', 'Osoba wyznaczona przez administratora (urząd, szkołę) do nadzoru nad przestrzeganiem RODO; jej dane kontaktowe podaje się w klauzulach informacyjnych.', 'rodo'),
('JRWA', 'Jednolity rzeczowy wykaz akt', 'Klasyfikacja dokumentacji urzędu według symboli i kategorii archiwalnych (A, B5, BE10...), część instrukcji kancelaryjnej.', 'obieg-dokumentow'),
('JST', 'Jednostka samorządu terytorialnego', 'Gmina, powiat albo województwo.', ''),
('KPO', 'Krajowy Plan Odbudowy i Zwiększania Odporności', 'Program finansowany z Instrumentu na rzecz Odbudowy i Zwiększania Odporności UE; inwestycje i reformy z terminami do 2026 r.', 'fundusze-ue'),
('KZ', 'Kontrola zarządcza', 'Ogół działań dla zapewnienia realizacji celów w sposób zgodny z prawem, efektywny i oszczędny (art. 68 ustawy o finansach publicznych); kończy się oświadczeniem o stanie kontroli zarządczej.', 'kontrola-zarzadcza'),
('MPZP', 'Miejscowy plan zagospodarowania przestrzennego', 'Akt prawa miejscowego przesądzający o przeznaczeniu terenu; tam, gdzie go nie ma, wydaje się decyzje o warunkach zabudowy (WZ).', 'lad-przestrzenny'),
('NGO', 'Organizacja pozarządowa (non-governmental organization)', 'Stowarzyszenie, fundacja i inne podmioty z ustawy o działalności pożytku publicznego i o wolontariacie, z którymi gmina współpracuje według rocznego programu współpracy.', 'ngo'),
('OSP', 'Ochotnicza Straż Pożarna', 'Stowarzyszenie strażaków ochotników; gmina finansuje jej gotowość bojową i wypłaca ekwiwalent za udział w akcjach.', 'porzadek-publiczny'),
('PCPR', 'Powiatowe Centrum Pomocy Rodzinie', 'Jednostka powiatu: piecza zastępcza, domy pomocy społecznej, rehabilitacja osób niepełnosprawnych (PFRON).', 'pomoc-spoleczna'),
('PPK', 'Pracownicze Plany Kapitałowe', 'Dobrowolny system oszczędzania na emeryturę współfinansowany przez pracodawcę, także urząd.', 'kadry-szkolenia'),
('PSZOK', 'Punkt selektywnego zbierania odpadów komunalnych', 'Miejsce, w którym mieszkańcy oddają odpady problemowe, wielkogabarytowe, budowlane i elektroodpady; gmina musi go zapewnić.', 'odpady'),
('PZP', 'Prawo zamówień publicznych', 'Ustawa z 11 września 2019 r.; stosuje się ją do zamówień o wartości od 130 000 zł netto.', 'zamowienia'),
('RFRD', 'Rządowy Fundusz Rozwoju Dróg', 'Dofinansowanie budowy i remontów dróg gminnych i powiatowych w naborach ogłaszanych przez wojewodów.', 'drogi'),
('RODO', 'Rozporządzenie o ochronie danych osobowych (RODO, ang. GDPR)', 'Rozporządzenie Parlamentu Europejskiego i Rady (UE) 2016/679: obowiązki administratora danych, prawa osób, zgłaszanie naruszeń do UODO.', 'rodo'),
('SWZ', 'Specyfikacja warunków zamówienia', 'Dokument postępowania o udzielenie zamówienia publicznego: opis przedmiotu, warunki udziału, kryteria oceny ofert (dawniej SIWZ).', 'zamowienia'),
('UODO', 'Urząd Ochrony Danych Osobowych', 'Organ nadzorczy RODO w Polsce; do niego zgłasza się naruszenia ochrony danych w ciągu 72 godzin.', 'rodo'),
('WCAG', 'Web Content Accessibility Guidelines', 'Wytyczne dostępności treści internetowych; strony i BIP urzędu muszą spełniać WCAG 2.1 na poziomie AA (ustawa o dostępności cyfrowej).', 'bip'),
('WPF', 'Wieloletnia prognoza finansowa', 'Uchwała z prognozą dochodów, wydatków i długu na lata objęte limitami przedsięwzięć; powiązana z budżetem i budżetem zadaniowym.', 'budzet-zadaniowy'),
('WZ', 'Decyzja o warunkach zabudowy', 'Decyzja ustalająca warunki zabudowy terenu, dla którego nie ma miejscowego planu.', 'lad-przestrzenny'),
('ZUD', 'Zespół uzgadniania dokumentacji projektowej', 'Zespół przy staroście uzgadniający usytuowanie projektowanych sieci uzbrojenia terenu.', 'lad-przestrzenny'),
('ZP', 'Zamówienia publiczne', 'Skrót używany w nazwach komórek urzędu (referat ZP) i w tagach listy.', 'zamowienia');

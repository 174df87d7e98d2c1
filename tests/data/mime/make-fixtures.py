#!/usr/bin/env python3
"""Write the hostile and broken mail of tests/data/mime/ (run from the
repository root: python3 tests/data/mime/make-fixtures.py). The files are
committed; this script documents how each was made and makes them again
byte for byte. test_ingest_mime.c asserts what ingest makes of each."""
import base64, io, os, zipfile, zlib

D = os.path.dirname(os.path.abspath(__file__))

def w(name, data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    with open(os.path.join(D, name), 'wb') as f:
        f.write(data)

def hdr(subject='Test', mid=None, extra=''):
    h = 'From: Anna Kowalczyk <A.Kowalczyk@Brzozowka.example>\n'
    h += 'To: praktyki@lista.example\n'
    h += 'Date: Mon, 15 Jan 2024 09:12:00 +0100\n'
    h += 'Subject: %s\n' % subject
    if mid:
        h += 'Message-ID: <%s>\n' % mid
    h += 'MIME-Version: 1.0\n' + extra
    return h

def b64(data):
    return base64.encodebytes(data).decode('ascii')

def pdf(text):
    """A minimal valid PDF with one line of Helvetica text."""
    objs = []
    objs.append(b'<< /Type /Catalog /Pages 2 0 R >>')
    objs.append(b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
    objs.append(b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] '
                b'/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>')
    stream = b'BT /F1 12 Tf 72 770 Td (' + text.encode('latin-1') + b') Tj ET'
    objs.append(b'<< /Length %d >>\nstream\n' % len(stream) + stream +
                b'\nendstream')
    objs.append(b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica '
                b'/Encoding /WinAnsiEncoding >>')
    out = bytearray(b'%PDF-1.4\n')
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b'%d 0 obj\n' % (i + 1) + o + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
    for o in offs:
        out += b'%010d 00000 n \n' % o
    out += b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (
        len(objs) + 1, xref)
    return bytes(out)

def docx(xml_body):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in (('[Content_Types].xml', '<?xml version="1.0"?><Types/>'),
                           ('word/document.xml', xml_body)):
            # A fixed time stamp, so that the files come out the same.
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 15, 9, 12, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return bio.getvalue()

# 1. The libetpan 1.9.4 crash (DEPENDENCIES.md): a quote as the boundary.
w('boundary-quote-crash.eml', hdr('Granica w cudzysłowie', 'crash-1@test.example',
  'Content-Type: multipart/mixed; boundary="\\""\n') +
  '\n--"\nContent-Type: text/plain\n\nhello\n--"--\n')

# 2. No closing delimiter.
w('missing-final-boundary.eml', hdr('Brak końca', 'nofinal@test.example',
  'Content-Type: multipart/mixed; boundary="XYZ"\n') +
  '\n--XYZ\nContent-Type: text/plain; charset=utf-8\n\nTreść wiadomości bez końcowej granicy.\n'
  '--XYZ\nContent-Type: application/octet-stream; name="dane.bin"\n'
  'Content-Transfer-Encoding: base64\n\n' + b64(b'\x00\x01\x02binary') )

# 3. A boundary that never occurs.
w('boundary-never-found.eml', hdr('Zgubiona granica', 'lost@test.example',
  'Content-Type: multipart/mixed; boundary="nigdzie"\n') +
  '\nTo jest tekst, który powinien zostać zachowany.\n--inna\nCoś jeszcze.\n')

# 4. 1000 nested multiparts.
depth = 1000
body = ''
for i in range(depth):
    body += 'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i)
body += 'Content-Type: text/plain\n\nnajgłębszy tekst\n'
for i in reversed(range(depth)):
    body += '--b%d--\n' % i
w('deep-nesting.eml', hdr('Głęboko', 'deep@test.example') + body)

# 5. 12000 parts.
parts = ''.join('--P\nContent-Type: text/plain\n\nczęść %d\n' % i
                for i in range(12000))
w('many-parts.eml', hdr('Tysiące części', 'many@test.example',
  'Content-Type: multipart/mixed; boundary="P"\n') + '\n' + parts + '--P--\n')

# 6. A header block of about 600 KiB: a 300 KiB subject and 5000 fields.
w('huge-header.eml', 'Message-ID: <huge@test.example>\n'
  'From: a@test.example\nSubject: ' + 'Bardzo długi temat ' * 16000 + '\n' +
  ''.join('X-Filler-%d: %s\n' % (i, 'x' * 50) for i in range(5000)) +
  '\nTreść po ogromnym nagłówku.\n')

# 7. NUL bytes in the header and the body.
w('nul-bytes.eml', b'From: Nul\x00Person <nul@test.example>\nSubject: ma\x00le\n'
  b'Message-ID: <nul@test.example>\n\nprzed\x00po NUL\n')

# 8. Broken base64: junk characters, no padding, a bad tail.
w('bad-base64.eml', hdr('Zepsuty base64', 'badb64@test.example',
  'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n') +
  '\n' + 'WmHFvMOzxYLEhyBnxJnFm2zEhSBqYcW6xYQ'[:30] + '!!!***\n' + 'WmHFvMOz' + '=\n====\n')

# 9. A charset nobody knows, over windows-1250 bytes.
w('unknown-charset.eml', hdr('Nieznany zestaw', 'unknowncs@test.example',
  'Content-Type: text/plain; charset="x-foobar-99"\nContent-Transfer-Encoding: 8bit\n').encode() +
  b'\n' + 'Zażółć gęślą jaźń, dzień dobry.\n'.encode('cp1250'))

# 10. No header at all.
w('missing-headers.eml', 'Tylko treść, bez żadnego nagłówka.\nDruga linia.\n')

# 11. No Message-ID.
w('no-message-id.eml', hdr('Bez identyfikatora') + '\nTreść bez Message-ID.\n')

# 12. Raw 8-bit windows-1250 in Subject and From.
w('raw-8bit-cp1250-headers.eml',
  'From: Paweł Łęcki <pawel@test.example>\nSubject: Sprawozdanie z gminy Łąka\n'
  'Message-ID: <raw8@test.example>\nDate: Tue, 16 Jan 2024 10:00:00 +0100\n'
  '\nTreść.\n'.replace('Treść', 'Tresc')
  .encode('cp1250'))

# 13. RFC 2047: adjacent B words splitting a UTF-8 character, then Q words
# in ISO-8859-2 and windows-1250 next to each other.
s = 'Zażółć gęślą jaźń'.encode('utf-8')  # s[:3] ends inside "ż"
w('rfc2047-adjacent.eml',
  'From: =?ISO-8859-2?Q?Pawe=B3?= =?windows-1250?Q?_=A3=EAcki?= <P.Lecki@Test.Example>\n'
  'Subject: =?UTF-8?B?%s?=\n =?UTF-8?B?%s?= i =?iso-8859-2?q?=B6wi=EAto?=\n'
  'Message-ID: <rfc2047@test.example>\n\nTresc.\n' %
  (base64.b64encode(s[:3]).decode(), base64.b64encode(s[3:]).decode()))

# 14. RFC 2231 continuations with percent-encoded UTF-8 split mid-character.
name = 'Łódź – regulamin zamówień.pdf'.encode('utf-8')
enc = ''.join('%%%02X' % b for b in name)
cut = enc.index('%', 10)  # split between two octets of one character
w('rfc2231-filename.eml', hdr('Załącznik', 'rfc2231@test.example',
  'Content-Type: multipart/mixed; boundary="B"\n') +
  '\n--B\nContent-Type: text/plain; charset=utf-8\n\nW załączeniu.\n'
  '--B\nContent-Type: application/pdf; name="fallback.pdf"\n'
  "Content-Disposition: attachment;\n filename*0*=utf-8''%s;\n filename*1*=%s\n"
  'Content-Transfer-Encoding: base64\n\n%s--B--\n' % (enc[:cut], enc[cut:],
                                                      b64(pdf('Regulamin zamowien Lodz'))))

# 15. A DOCX zip bomb: word/document.xml unpacks to 64 MiB.
bomb = docx('<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>' + ' ' * (64 << 20) +
            '</w:t></w:r></w:p></w:body></w:document>')
w('zipbomb-docx.eml', hdr('Bomba', 'zipbomb@test.example',
  'Content-Type: multipart/mixed; boundary="B"\n') +
  '\n--B\nContent-Type: text/plain\n\nProszę otworzyć.\n'
  '--B\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; name="bomba.docx"\n'
  'Content-Disposition: attachment; filename="bomba.docx"\n'
  'Content-Transfer-Encoding: base64\n\n' + b64(bomb) + '--B--\n')

# 15b. The same bomb with both directories claiming 1000 bytes.
def lie_sizes(z):
    z = bytearray(z)
    import struct
    i = 0
    while True:
        i = z.find(b'PK\x01\x02', i)
        if i < 0:
            break
        name_len = struct.unpack_from('<H', z, i + 28)[0]
        name = bytes(z[i + 46:i + 46 + name_len])
        if name == b'word/document.xml':
            struct.pack_into('<I', z, i + 24, 1000)
        i += 4
    i = 0
    while True:
        i = z.find(b'PK\x03\x04', i)
        if i < 0:
            break
        name_len = struct.unpack_from('<H', z, i + 26)[0]
        name = bytes(z[i + 30:i + 30 + name_len])
        if name == b'word/document.xml':
            struct.pack_into('<I', z, i + 22, 1000)
        i += 4
    return bytes(z)
w('zipbomb-liar-docx.eml', hdr('Bomba kłamczucha', 'zipliar@test.example',
  'Content-Type: multipart/mixed; boundary="B"\n') +
  '\n--B\nContent-Type: text/plain\n\nProszę otworzyć.\n'
  '--B\nContent-Type: application/octet-stream; name="bomba.docx"\n'
  'Content-Transfer-Encoding: base64\n\n' + b64(lie_sizes(bomb)) + '--B--\n')

# 16. A PDF that is not one.
w('broken-pdf.eml', hdr('Zepsuty PDF', 'brokenpdf@test.example',
  'Content-Type: multipart/mixed; boundary="B"\n') +
  '\n--B\nContent-Type: text/plain; charset=utf-8\n\nW załączeniu protokół.\n'
  '--B\nContent-Type: application/pdf; name="protokol.pdf"\n'
  'Content-Transfer-Encoding: base64\n\n' +
  b64(b'%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nendobj\ngarbage \xff\xfe' * 20) +
  '--B--\n')

# 17. HTML only, with script, style, links and &nbsp;.
w('html-only-script.eml', hdr('Tylko HTML', 'htmlonly@test.example',
  'Content-Type: text/html; charset=utf-8\n') +
  '\n<html><head><title>Tytuł</title><style>p { color: red }</style>'
  '<script>alert("xss")</script></head><body>'
  '<p>Dzień&nbsp;dobry,</p><p>zapraszamy na <a href="https://gmina.example/spotkanie">spotkanie</a>'
  ' oraz na <a href="https://bip.example/">https://bip.example/</a>.</p>'
  '<ul><li>punkt pierwszy</li><li>punkt drugi</li></ul>'
  '<script>document.write("nie")</script><div>Pozdrawiam<br>Anna</div></body></html>\n')

# 18. windows-1250 declared as iso-8859-1 (ą is 0xB9, ś is 0x9C).
w('cp1250-as-latin1.eml', hdr('Źle oznaczone', 'mislabel@test.example',
  'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n').encode() +
  b'\n' + 'Proszę o przesłanie sprawozdania. Dziękuję, ząb i śnieg.\n'.encode('cp1250'))

# 19. A forward as message/rfc822.
w('forwarded-rfc822.eml', hdr('Fwd: Regulamin', 'fwd@test.example',
  'Content-Type: multipart/mixed; boundary="B"\n') +
  '\n--B\nContent-Type: text/plain; charset=utf-8\n\nPrzesyłam dalej.\n'
  '--B\nContent-Type: message/rfc822\n\n'
  'From: Piotr Zając <p.zajac@jaskowo.example>\nSubject: Regulamin zamówień\n'
  'Date: Fri, 12 Jan 2024 08:00:00 +0100\nContent-Type: text/plain; charset=iso-8859-2\n'
  'Content-Transfer-Encoding: quoted-printable\n\nRegulamin w za=B3=B1czeniu, pozdrawiam.\n'
  '--B--\n')

# 20. A forward whose message/rfc822 part is base64-encoded.
inner = ('From: Ewa Nowak <e.nowak@sosnica.example>\nSubject: Taryfa\n'
         'Content-Type: text/plain; charset=utf-8\n\nTaryfa dla wody – szczegóły.\n').encode()
w('forwarded-base64-rfc822.eml', hdr('Fwd: Taryfa', 'fwdb64@test.example',
  'Content-Type: multipart/mixed; boundary="B"\n') +
  '\n--B\nContent-Type: text/plain\n\nFYI\n'
  '--B\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n' + b64(inner) + '--B--\n')

# 21-23. Charsets.
w('iso2-qp.eml', hdr('ISO-8859-2 QP', 'iso2qp@test.example',
  'Content-Type: text/plain; charset=ISO-8859-2\nContent-Transfer-Encoding: quoted-printable\n') +
  '\nZa=BF=F3=B3=E6 g=EA=B6l=B1 ja=BC=F1\n')
w('cp1250-b64.eml', hdr('cp1250 base64', 'cp1250b64@test.example',
  'Content-Type: text/plain; charset="windows-1250"\nContent-Transfer-Encoding: base64\n') +
  '\n' + b64('Zażółć gęślą jaźń – Śląsk, Źródło.'.encode('cp1250')))
w('html-iso2-meta.eml', hdr('HTML z meta', 'htmlmeta@test.example',
  'Content-Type: text/html\nContent-Transfer-Encoding: 8bit\n').encode() + b'\n' +
  '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'
  '</head><body><p>Łódź i Kraków - spotkanie.</p></body></html>\n'.encode('iso-8859-2'))

# 24. multipart/alternative: the plain part wins.
w('alternative.eml', hdr('Alternatywa', 'alt@test.example',
  'Content-Type: multipart/alternative; boundary="A"\n') +
  '\n--A\nContent-Type: text/plain; charset=utf-8\n\nWersja tekstowa.\n'
  '--A\nContent-Type: text/html; charset=utf-8\n\n<p>Wersja <b>HTML</b>.</p>\n--A--\n')

# 25-26. Quoting.
w('outlook-quote.eml', hdr('RE: Pytanie', 'outlook@test.example',
  'Content-Type: text/plain; charset=utf-8\n') +
  '\nDziękuję, tak zrobimy.\n\nMarek\n\n-----Wiadomość oryginalna-----\n'
  'Od: Anna <a@test.example>\nWysłano: poniedziałek, 15 stycznia 2024 09:12\n'
  'Temat: Pytanie\n\nCzy ktoś ma wzór?\n')
w('quoted-reply.eml', hdr('Re: Pytanie', 'quoted@test.example',
  'Content-Type: text/plain; charset=utf-8\nIn-Reply-To: <q0@test.example>\n'
  'References: <root@test.example> <q0@test.example>\n') +
  '\nMamy taki wzór, przesyłam.\n\n-- \nEwa\n\nW dniu 15.01.2024 o 09:12, Anna Kowalczyk\n<a@test.example> pisze:\n'
  '> Czy ktoś ma wzór?\n>\n> Anna\n')

# 28. An encoded word inside a quoted display name.
w('quoted-encoded-name.eml',
  'From: "=?utf-8?Q?Pawe=C5=82_Zaj=C4=85c?=" <P.Zajac@Jaskowo.EXAMPLE>\n'
  'To: "Kowalska, Anna" <a@x.example>, undisclosed-recipients:;, b@y.example (Bartek)\n'
  'Message-ID: <qname@test.example>\nSubject: x\n\nTresc.\n')

# 29. A date that means nothing.
w('garbled-date.eml', 'From: a@test.example\nDate: kiedyś w zeszłym tygodniu\n'
  'Message-ID: <garbled@test.example>\nSubject: data\n\nTresc.\n')

# 31. 300 references.
w('many-references.eml', 'From: a@test.example\nMessage-ID: <refs@test.example>\n'
  'Subject: Re: dużo\nReferences:' + ''.join(' <r%d@test.example>\n' % i for i in range(300)) +
  '\nTresc.\n')

# 33. format=flowed.
w('flowed.eml', hdr('Flowed', 'flowed@test.example',
  'Content-Type: text/plain; charset=utf-8; format=flowed\n') +
  '\nTo jest długi akapit, który klient poczty \npodzielił na kilka \nlinii.\n\n> cytat \n> dalej\n')

# 34. OLE magic that is no Word document.
w('fake-doc.eml', hdr('Stary format', 'fakedoc@test.example',
  'Content-Type: multipart/mixed; boundary="B"\n') +
  '\n--B\nContent-Type: text/plain\n\nDokument w starym formacie.\n'
  '--B\nContent-Type: application/msword; name="stary.doc"\n'
  'Content-Transfer-Encoding: base64\n\n' + b64(b'\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1' + b'\x00' * 600) +
  '--B--\n')

# 35. Apple Mail: the PDF sits in the HTML alternative, next to an inline
# picture; the plain alternative is read, the PDF kept, the picture not.
w('attachment-in-html-alternative.eml', hdr('Załącznik w HTML', 'apple@test.example',
  'Content-Type: multipart/alternative; boundary="A"\n') +
  '\n--A\nContent-Type: text/plain; charset=utf-8\n\nW załączeniu program.\n'
  '--A\nContent-Type: multipart/mixed; boundary="M"\n\n'
  '--M\nContent-Type: text/html; charset=utf-8\n\n<p>W załączeniu <b>program</b>.</p>\n'
  '--M\nContent-Type: image/png; name="logo.png"\nContent-Disposition: inline; filename="logo.png"\n'
  'Content-Transfer-Encoding: base64\n\n' + b64(b'\x89PNG\r\n\x1a\n') +
  '--M\nContent-Type: application/pdf; name="program.pdf"\n'
  'Content-Disposition: attachment; filename="program.pdf"\n'
  'Content-Transfer-Encoding: base64\n\n' + b64(pdf('Program spotkania')) +
  '--M--\n--A--\n')

# 36. A PGP-signed message: the signature is not an attachment.
w('pgp-signed.eml', hdr('Podpisana', 'signed@test.example',
  'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="S"\n') +
  '\n--S\nContent-Type: text/plain; charset=utf-8\n\nTreść podpisana.\n'
  '--S\nContent-Type: application/pgp-signature; name="signature.asc"\n\n'
  '-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n--S--\n')

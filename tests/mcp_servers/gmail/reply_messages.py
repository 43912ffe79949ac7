"""Raw replies and HTML mail written the way real clients write them, for the reply and HTML tests.

Each constant is a complete RFC 5322 message as a client sends it (headers, MIME structure,
transfer encoding, the client's own attribution line and quoting). `NEW` and `QUOTED` hold what the
parser must find as the new text and keep as the quote.
"""

from __future__ import annotations


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


GMAIL_TOP_POST = _crlf("""\
From: Bob Example <bob@example.org>
To: Ada Lovelace <ada@example.org>
Subject: Re: Budget review
Date: Tue, 4 Mar 2025 10:02:11 +0000
Message-ID: <CAB1@mail.gmail.com>
In-Reply-To: <ada-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000a1b2"

--000000000000a1b2
Content-Type: text/plain; charset="UTF-8"

Thursday at 3 works for me. I'll bring the Q1 figures.

On Tue, Mar 4, 2025 at 9:30 AM Ada Lovelace <ada@example.org>
wrote:

> Can we go through the budget on Thursday afternoon?
>
> Ada
>

--000000000000a1b2
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Thursday at 3 works for me. I'll bring the Q1 figures.</div><br><div class="gmail_quote">\
<div dir="ltr" class="gmail_attr">On Tue, Mar 4, 2025 at 9:30 AM Ada Lovelace &lt;<a href="mailto:ada@example.org">\
ada@example.org</a>&gt; wrote:<br></div><blockquote class="gmail_quote">Can we go through the budget on Thursday \
afternoon?<br><br>Ada</blockquote></div>

--000000000000a1b2--
""")

GMAIL_BOTTOM_POST = _crlf("""\
From: Bob Example <bob@example.org>
To: ada@example.org
Subject: Re: Server move
Date: Tue, 4 Mar 2025 10:05:00 +0000
Message-ID: <CAB2@mail.gmail.com>
Content-Type: text/plain; charset="UTF-8"

On Tue, 4 Mar 2025 at 09:30, Ada Lovelace <ada@example.org> wrote:
> Could you move the build server before Friday? The old one is
> failing its disk checks.

Yes. I'll move it on Wednesday evening, so it is done well before Friday.
Can you warn the team that builds stop from 18:00 to 20:00?

Bob
""")

INLINE_MUTT = _crlf("""\
From: Carol Jones <carol@example.net>
To: Ada Lovelace <ada@example.org>
Subject: Re: Conference plans
Date: Tue, 4 Mar 2025 11:15:40 +0100
Message-ID: <20250304101540.GA1234@example.net>
User-Agent: Mutt/2.2.9
Content-Type: text/plain; charset=us-ascii
Content-Disposition: inline

* Ada Lovelace <ada@example.org> [2025-03-04 09:30 +0000]:
> Are you coming to the conference in May?

Yes, I have booked the flights already.

> And could you give the keynote on the second day?

Happy to. Send me the time slot when you have it.

> Dinner on the first evening?

Count me in.

--
Carol
""")

OUTLOOK_TOP_POST = _crlf("""\
From: Dan Smith <dan@corp.example>
To: Ada Lovelace <ada@example.org>
Subject: RE: Contract renewal
Date: Tue, 4 Mar 2025 12:01:00 +0000
Message-ID: <DB7PR01MB1234@DB7PR01MB1234.eurprd01.prod.exchangelabs.com>
X-Mailer: Microsoft Outlook 16.0
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Ada,

The signed contract is attached. Please countersign by March 14.

Regards,
Dan

-----Original Message-----
From: Ada Lovelace <ada@example.org>
Sent: Monday, March 3, 2025 4:12 PM
To: Dan Smith <dan@corp.example>
Subject: Contract renewal

Dan, is the contract ready to sign?
""")

OUTLOOK_HTML_ONLY = _crlf("""\
From: Dan Smith <dan@corp.example>
To: Ada Lovelace <ada@example.org>
Subject: RE: Budget
Date: Tue, 4 Mar 2025 12:30:00 +0000
Message-ID: <DB7PR01MB5678@DB7PR01MB5678.eurprd01.prod.exchangelabs.com>
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

<html><head><meta http-equiv=3D"Content-Type" content=3D"text/html; charset=3Diso-8859-1"></head>
<body><div>Approved. The caf=E9 order can go ahead&nbsp;too.</div>
<div id=3D"divRplyFwdMsg" dir=3D"ltr"><hr style=3D"display:inline-block;width:98%">
<font face=3D"Calibri"><b>From:</b> Ada Lovelace &lt;ada@example.org&gt;<br>
<b>Sent:</b> Tuesday, March 4, 2025 9:30 AM<br><b>To:</b> Dan Smith &lt;dan@corp.example&gt;<br>
<b>Subject:</b> Budget</font><div>&nbsp;</div></div>
<div>Please approve the budget for the caf=E9.</div></body></html>
""")

APPLE_MAIL_BOTTOM_POST = _crlf("""\
From: Erin Park <erin@example.com>
To: Ada Lovelace <ada@example.org>
Subject: Re: Keys
Date: Tue, 4 Mar 2025 13:00:00 +0000
Message-Id: <6F1D2C3B-1111-4AAA-9BBB-123456789ABC@example.com>
Mime-Version: 1.0 (Mac OS X Mail 16.0)
X-Mailer: iPhone Mail (21D61)
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

> On 4 Mar 2025, at 09:30, Ada Lovelace <ada@example.org> wrote:
>=20
> =EF=BB=BFDid you leave the office keys with reception?
>=20

No, they are in my desk drawer. I can bring them tomorrow morning.

Sent from my iPhone
""")

GERMAN_BOTTOM_POST = _crlf("""\
From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@beispiel.de>
To: Ada Lovelace <ada@example.org>
Subject: =?utf-8?q?AW=3A_Angebot_f=C3=BCr_M=C3=A4rz?=
Date: Tue, 4 Mar 2025 14:00:00 +0100
Message-ID: <a1b2c3@beispiel.de>
User-Agent: Mozilla Thunderbird
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Am 04.03.25 um 09:30 schrieb Ada Lovelace:
> Können Sie uns das Angebot bis Freitag schicken?

Ja, das Angebot für März schicke ich Ihnen bis Donnerstag.

Mit freundlichen Grüßen
Jürgen Müller

--\x20
Jürgen Müller · Beispiel GmbH · Tel. 030 1234567
""")

FRENCH_BOTTOM_POST = """\
From: =?iso-8859-1?q?Ren=E9e_Dupont?= <renee@exemple.fr>
To: Ada Lovelace <ada@example.org>
Subject: Re: =?iso-8859-1?q?R=E9union?=
Date: Tue, 4 Mar 2025 15:00:00 +0100
Message-ID: <b2c3d4@exemple.fr>
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

Le mar. 4 mars 2025 à 09:30, Ada Lovelace <ada@example.org> a écrit :
> Pouvez-vous confirmer la réunion de jeudi ?

Oui, je confirme la réunion de jeudi à 14 h. J'apporterai le compte rendu.

Renée
""".replace("\n", "\r\n").encode("latin-1")

OUTLOOK_EXPRESS_BOTTOM_POST = _crlf("""\
From: "Frank Lee" <frank@example.com>
To: <ada@example.org>
Subject: Re: Printer
Date: Tue, 4 Mar 2025 16:00:00 -0500
Message-ID: <001a01c2@frankpc>
X-Mailer: Microsoft Outlook Express 6.00.2800.1106
Content-Type: text/plain; charset="iso-8859-1"

----- Original Message -----
From: "Ada Lovelace" <ada@example.org>
To: <frank@example.com>
Sent: Tuesday, March 04, 2025 9:30 AM
Subject: Printer

> Is the printer on the second floor fixed yet?

The technician replaced the fuser this afternoon; it prints again.
""")

LIST_REPLY_WITH_FOOTER = _crlf("""\
From: Gary Hall <gary@example.edu>
To: dev@lists.example.org
Subject: Re: [dev] Release 2.0
Date: Tue, 4 Mar 2025 17:00:00 +0000
Message-ID: <list-1@example.edu>
List-Id: <dev.lists.example.org>
Content-Type: text/plain; charset=us-ascii

On 04/03/2025 09:30, Ada Lovelace wrote:
> When do we tag the release? I would like the installer fixes in it, and
> the new docs.

Tag it on Monday. The installer fixes went in yesterday.

--
Gary Hall, Example University

_______________________________________________
dev mailing list
dev@lists.example.org
https://lists.example.org/mailman/listinfo/dev
""")

GMAIL_FORWARD = _crlf("""\
From: Bob Example <bob@example.org>
To: ada@example.org
Subject: Fwd: Invoice 2025-031
Date: Tue, 4 Mar 2025 18:00:00 +0000
Message-ID: <CAB3@mail.gmail.com>
Content-Type: text/plain; charset="UTF-8"

---------- Forwarded message ---------
From: Billing <billing@vendor.example>
Date: Mon, Mar 3, 2025 at 8:00 AM
Subject: Invoice 2025-031
To: <bob@example.org>

Invoice 2025-031 for 1,200 EUR is due on March 31.
""")

QUOTE_ONLY = _crlf("""\
From: Bob Example <bob@example.org>
To: ada@example.org
Subject: Re: Lunch
Date: Tue, 4 Mar 2025 18:30:00 +0000
Message-ID: <CAB4@mail.gmail.com>
Content-Type: text/plain; charset="UTF-8"

> Lunch at the usual place on Friday?
> Ada
""")

HTML_ONLY_ENTITIES = _crlf("""\
From: =?utf-8?q?Ren=C3=A9e_Dupont?= <renee@exemple.fr>
To: ada@example.org
Subject: =?utf-8?q?Caf=C3=A9_du_jeudi?=
Date: Tue, 4 Mar 2025 19:00:00 +0100
Message-ID: <html-1@exemple.fr>
MIME-Version: 1.0
Content-Type: text/html; charset="us-ascii"

<html><body><table><tr><td>Bonjour&nbsp;Ada,</td></tr><tr><td>Le caf&eacute; de jeudi est \
&agrave; 10&nbsp;h &#8212; apportez les cr&#xE8;mes br&ucirc;l&eacute;es.</td><td>M&uuml;ller \
&amp; Fils</td></tr></table><p>&Agrave; jeudi&#8239;!</p></body></html>
""")

EMPTY_PLAIN_WITH_HTML = _crlf("""\
From: Grace <grace@example.com>
To: ada@example.org
Subject: Slides
Date: Tue, 4 Mar 2025 19:30:00 +0000
Message-ID: <empty-plain@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset="utf-8"

  \t

--b1
Content-Type: text/html; charset="utf-8"

<p>The slides for Thursday are ready. Could you check the last page?</p>

--b1--
""")


def stub_with_html(stub: str, html: str = "<p>Your order #4411 has shipped and arrives Friday.</p>") -> bytes:
    """multipart/alternative whose text/plain only says the mail is HTML, the HTML in a related part."""
    return _crlf(f"""\
From: Shop <orders@shop.example>
To: ada@example.org
Subject: Your order has shipped
Date: Tue, 4 Mar 2025 20:00:00 +0000
Message-ID: <stub@shop.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="utf-8"

{stub}

--alt
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset="utf-8"

{html}
--rel
Content-Type: image/png
Content-ID: <logo>
Content-Disposition: inline; filename="logo.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--

--alt--
""")


MIXED_STUB_AND_HTML = _crlf("""\
From: Promo <promo@shop.example>
To: ada@example.org
Subject: News
Date: Tue, 4 Mar 2025 20:30:00 +0000
Message-ID: <mixed-stub@shop.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset="us-ascii"

HTML Message !

--mix
Content-Type: text/html; charset="us-ascii"

<p>The spring catalogue is out.</p>

--mix--
""")

HTML_AS_PLAIN = _crlf("""\
From: Old Mailer <old@example.com>
To: ada@example.org
Subject: Report
Date: Tue, 4 Mar 2025 21:00:00 +0000
Message-ID: <html-as-plain@example.com>
Content-Type: text/plain; charset="us-ascii"

<!DOCTYPE html><html><body><p>The report is ready for review.</p></body></html>
""")

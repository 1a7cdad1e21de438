"""Printable notices (打印文书): each written notice to the applicant as an A4 PDF with the
centre's header, the title, the case number, the check code (查询码) and a QR code of the public
progress page, the notice's text exactly as it was recorded, the date and a place for the seal.

``sheet`` lays a notice out (HTML and CSS, the QR code from segno), ``pdf`` renders it with
WeasyPrint and Debian's Noto CJK fonts, ``recorded`` reads the recorded notice from the store and
answers the API's and the console's download routes. PDFs are made on demand, never stored."""

#!/usr/bin/env python3
"""Write "click URL<TAB>expected Location" lines from the sink's saved messages.

extract-clicks.py PATTERN DIR OUT [DESTINATION]

PATTERN is a regexp of a tracked link in the HTML part. Without DESTINATION
(Herald: the destination is the link's u= parameter) the first tracked link to
an https:// page is taken; with it (listmonk: the link names no destination)
the first tracked link, expected to redirect to DESTINATION.
"""
import email, glob, re, sys, urllib.parse
from email import policy

pat = re.compile(sys.argv[1])
fixed = sys.argv[4] if len(sys.argv) > 4 else None
n = 0
with open(sys.argv[3], 'w') as out:
    for f in sorted(glob.glob(sys.argv[2] + '/*.eml')):
        with open(f, 'rb') as fh:
            m = email.message_from_binary_file(fh, policy=policy.default)
        for part in m.walk():
            if part.get_content_type() != 'text/html':
                continue
            for u in pat.findall(part.get_content()):
                u = u.replace('&amp;', '&')
                dest = fixed or urllib.parse.parse_qs(urllib.parse.urlparse(u).query).get('u', [''])[0]
                if dest.startswith('https://'):
                    out.write(u + '\t' + dest + '\n')
                    n += 1
                    break
print(n, 'click URLs in', sys.argv[3])

package mailer

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTP PIPELINING (RFC 2920). go-smtp's client waits for every reply, so a
// message costs four round trips: MAIL, RCPT, DATA and the end of DATA.
// When the relay offers PIPELINING, the pool keeps go-smtp for the session's
// setup (greeting, EHLO, AUTH) and for QUIT, and drives the transaction
// itself over the same connection: MAIL, RCPT and DATA (after an RSET when
// the previous transaction failed half-way) go out in one write and their
// replies are read together, then the message and its end-of-data reply:
// two round trips a message. The next message's MAIL follows the
// end-of-data reply without RSET. Replies become the same *smtp.SMTPError
// values go-smtp returns, so every classification in errors.go and link.go
// applies unchanged. When the relay offers CHUNKING too, the session sends
// with BDAT instead (see chunking.go): one round trip a message.

// session is the text protocol of a connection Herald drives itself
// (the relay offers PIPELINING or CHUNKING): a reader and a writer on the
// connection that carries SMTP after any TLS layer. Between transactions
// go-smtp's own reader holds nothing (the relay speaks only when spoken
// to), so the two never share buffered bytes.
type session struct {
	plain net.Conn
	text  *textproto.Conn
	// pipelining and chunking are the extensions the session uses.
	pipelining bool
	chunking   bool
	// mailParams follow every MAIL FROM:<...>: what go-smtp would add for
	// the relay's extensions (BODY=8BITMIME, then SIZE=).
	body8bit bool
	size     bool
	line     []byte   // reused command buffer
	bufs     [][]byte // reused pieces of a message written at once
	norm     []byte   // reused copy of a message whose line ends BDAT fixes
}

// newSession returns the session for a connection whose relay offers
// PIPELINING or CHUNKING, with the ones to use; nil when neither.
func newSession(plain net.Conn, client *smtp.Client, pipelining, chunking bool) *session {
	if !pipelining && !chunking {
		return nil
	}
	s := &session{plain: plain, text: textproto.NewConn(plain), pipelining: pipelining, chunking: chunking}
	s.body8bit, _ = client.Extension("8BITMIME")
	s.size, _ = client.Extension("SIZE")
	return s
}

// pipelined is one command of a batch and the reply it wants.
type pipelined struct {
	stage Stage
	code  int // expected reply code; 25 means any 25x (RCPT)
}

// send runs one transaction: with BDAT when the session chunks, else
// pipelined in two round trips. It reports the stage reached and whether
// the message body had started to go out, as conn.send does.
func (s *session) send(c *conn, env Envelope, msg []byte, t Timeouts, whole bool) (Stage, bool, error) {
	if strings.ContainsAny(env.From, "\r\n") {
		return StageMail, false, errors.New("smtp: a line must not contain CR or LF")
	}
	if strings.ContainsAny(env.To, "\r\n") {
		return StageRcpt, false, errors.New("smtp: a line must not contain CR or LF")
	}
	if s.chunking {
		return s.sendChunked(c, env, msg, t, whole)
	}
	var batch [4]pipelined
	n := 0
	b := s.line[:0]
	if c.needReset {
		b = append(b, "RSET\r\n"...)
		batch[n] = pipelined{StageMail, 250}
		n++
	}
	b = s.appendMail(b, env.From, len(msg))
	b = append(b, "RCPT TO:<"...)
	b = append(b, env.To...)
	b = append(b, ">\r\nDATA\r\n"...)
	s.line = b
	batch[n] = pipelined{StageMail, 250}
	batch[n+1] = pipelined{StageRcpt, 25}
	batch[n+2] = pipelined{StageData, 354}
	n += 3

	s.plain.SetDeadline(time.Now().Add(t.Command))
	defer s.plain.SetDeadline(time.Time{})
	if _, err := s.text.W.Write(b); err != nil {
		return batch[0].stage, false, err
	}
	if err := s.text.W.Flush(); err != nil {
		return batch[0].stage, false, err
	}
	// Read every reply of the batch, keeping the first refusal: a refused
	// MAIL makes the relay refuse RCPT and DATA too, and the refusal that
	// says why is the first.
	var (
		failed     error
		failStage  Stage
		dataOpened bool
	)
	for i := range n {
		_, _, err := s.reply(batch[i].code)
		if err == nil {
			if batch[i].stage == StageData {
				dataOpened = true
			}
			if i == 0 && c.needReset {
				c.needReset = false
			}
			continue
		}
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code == 421 {
			// The session is broken (dropped, timed out, closing).
			if failed != nil {
				c.broken = true
				return failStage, false, failed
			}
			return batch[i].stage, false, err
		}
		if failed == nil {
			failed, failStage = err, batch[i].stage
		}
	}
	if failed != nil {
		if dataOpened {
			// The relay took DATA although an earlier command failed (RFC
			// 2920 says it must not when no recipient was accepted): end
			// the empty message at once, as the RFC tells the client to.
			s.plain.SetDeadline(time.Now().Add(t.Data))
			if err := s.text.PrintfLine("."); err != nil {
				return failStage, false, err
			}
			if _, _, err := s.reply(250); err != nil {
				var se *smtp.SMTPError
				if !errors.As(err, &se) {
					return failStage, false, err
				}
			}
		}
		return failStage, false, failed
	}

	s.plain.SetDeadline(time.Now().Add(t.Data))
	if err := s.writeData(msg); err != nil {
		return StageData, true, err
	}
	if _, _, err := s.reply(250); err != nil {
		return StageData, true, err
	}
	c.sent++
	return StageData, true, nil
}

// writeData writes msg as the DATA of a transaction (see the function
// writeData). On a plain TCP connection, whose writes are system calls,
// the message, its stuffing dots and the final "." go out in one writev,
// without copying the message into the writer's buffer first; over TLS
// they go through the buffer.
func (s *session) writeData(msg []byte) error {
	tcp, ok := s.plain.(*net.TCPConn)
	if !ok || s.text.W.Buffered() > 0 {
		return writeData(s.text.W, msg)
	}
	var spare [32]int
	dots, ok := dotLines(msg, spare[:0])
	if !ok {
		return writeData(s.text.W, msg)
	}
	b := s.bufs[:0]
	from := 0
	for _, at := range dots {
		b = append(b, msg[from:at], stuffing)
		from = at
	}
	b = append(b, msg[from:], endOfData)
	s.bufs = b
	nb := net.Buffers(b)
	_, err := nb.WriteTo(tcp)
	clear(b) // keep no hold on the caller's message
	return err
}

var stuffing, endOfData = []byte("."), []byte(".\r\n")

// writeData writes msg as the DATA of a transaction, dot-stuffed and
// ended with ".", and flushes: the bytes net/textproto's DotWriter (which
// go-smtp uses) writes, without its byte-at-a-time loop. Herald's messages
// have CRLF line ends, so only the lines that start with a dot need work:
// one pass over the line ends checks every LF follows a CR and notes
// those lines, then the runs between them are copied whole. A message
// with a bare LF or CR, or without a CRLF at its end, goes through the
// DotWriter.
func writeData(w *bufio.Writer, msg []byte) error {
	var spare [32]int
	dots, ok := dotLines(msg, spare[:0])
	if !ok {
		dw := textproto.NewWriter(w).DotWriter()
		if _, err := dw.Write(msg); err != nil {
			return err
		}
		return dw.Close() // writes ".\r\n" and flushes
	}
	from := 0
	for _, at := range dots {
		w.Write(msg[from:at])
		w.WriteByte('.') // the dot that stuffs the line's own dot
		from = at
	}
	w.Write(msg[from:])
	w.WriteString(".\r\n")
	return w.Flush()
}

// dotLines returns, appended to dots, where each line that starts with a
// dot starts, and whether msg has CRLF line ends only (every LF after a
// CR, no CR alone) and ends with one.
func dotLines(msg []byte, dots []int) ([]int, bool) {
	n := len(msg)
	if n < 2 || msg[n-2] != '\r' || msg[n-1] != '\n' {
		return dots, false
	}
	if msg[0] == '.' {
		dots = append(dots, 0)
	}
	lines := 0
	for i := 0; ; {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			break
		}
		i += j
		if i == 0 || msg[i-1] != '\r' {
			return dots, false
		}
		lines++
		i++
		if i < n && msg[i] == '.' {
			dots = append(dots, i)
		}
	}
	return dots, bytes.Count(msg, []byte{'\r'}) == lines
}

// reply reads one reply. A reply of the wrong class becomes an
// *smtp.SMTPError with its enhanced code, as go-smtp's client returns it.
func (s *session) reply(expect int) (int, string, error) {
	code, msg, err := s.text.ReadResponse(expect)
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return code, msg, smtpError(pe.Code, pe.Msg)
	}
	return code, msg, err
}

// smtpError parses a reply into the error go-smtp's client would return
// for it: "5.1.1 No such user" gives EnhancedCode {5,1,1} and the text.
func smtpError(code int, msg string) *smtp.SMTPError {
	e := &smtp.SMTPError{Code: code, Message: msg}
	first, rest, ok := strings.Cut(msg, " ")
	if !ok {
		return e
	}
	parts := strings.Split(first, ".")
	if len(parts) != 3 {
		return e
	}
	var enh smtp.EnhancedCode
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return e
		}
		enh[i] = v
	}
	e.EnhancedCode = enh
	// RFC 2034 repeats the enhanced code on every line of a reply.
	e.Message = strings.ReplaceAll(rest, "\n"+first+" ", "\n")
	return e
}

// startTLS opens a STARTTLS session by hand (greeting, EHLO, STARTTLS,
// handshake) and returns the TLS connection in front of a greeting for
// go-smtp's client, which then says EHLO again as RFC 3207 requires. go-smtp
// keeps the TLS connection it builds to itself; building it here gives the
// pool the connection a pipelined transaction writes to.
func startTLS(raw net.Conn, cfg *tls.Config, hello string) (net.Conn, error) {
	text := textproto.NewConn(raw)
	if _, _, err := text.ReadResponse(220); err != nil {
		return nil, asSMTP(err)
	}
	id, err := text.Cmd("EHLO %s", hello)
	if err != nil {
		return nil, err
	}
	text.StartResponse(id)
	_, ext, err := text.ReadResponse(250)
	text.EndResponse(id)
	if err != nil {
		return nil, asSMTP(err)
	}
	if !hasExtension(ext, "STARTTLS") {
		return nil, errors.New("smtp: server doesn't support STARTTLS")
	}
	id, err = text.Cmd("STARTTLS")
	if err != nil {
		return nil, err
	}
	text.StartResponse(id)
	_, _, err = text.ReadResponse(220)
	text.EndResponse(id)
	if err != nil {
		return nil, asSMTP(err)
	}
	if text.R.Buffered() > 0 {
		return nil, errors.New("smtp: server spoke before the TLS handshake")
	}
	tc := tls.Client(raw, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return &greeted{Conn: tc, greeting: []byte("220 TLS session ready\r\n")}, nil
}

func asSMTP(err error) error {
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return smtpError(pe.Code, pe.Msg)
	}
	return err
}

// hasExtension reports whether an EHLO reply (lines after the first)
// names ext.
func hasExtension(reply, ext string) bool {
	lines := strings.Split(reply, "\n")
	for _, l := range lines[1:] {
		name, _, _ := strings.Cut(l, " ")
		if strings.EqualFold(name, ext) {
			return true
		}
	}
	return false
}

// greeted is a connection whose first bytes read are a greeting already
// received, so a new go-smtp client can start on a session that is past
// its greeting.
type greeted struct {
	net.Conn
	greeting []byte
}

func (g *greeted) Read(p []byte) (int, error) {
	if len(g.greeting) > 0 {
		n := copy(p, g.greeting)
		g.greeting = g.greeting[n:]
		return n, nil
	}
	return g.Conn.Read(p)
}

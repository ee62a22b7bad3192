package mailer

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTP CHUNKING (RFC 3030). When the relay offers it, a message goes out
// as one chunk, "BDAT <size> LAST" followed by its bytes as they are: no
// dot-stuffing on our side and no un-stuffing on the relay's, and no wait
// for a 354 before the body. With PIPELINING too, and a caller that keeps
// its transactions to the end (KeepToEnd), MAIL, RCPT, BDAT and the
// message leave in one write and their replies are read in order: one
// round trip a message. For other callers MAIL and RCPT go first and the
// chunk follows their replies (two round trips, as with DATA): a message
// written with its commands reaches the relay's socket whatever happens
// next, so a transaction cut short by the caller might still deliver it,
// and a caller that gives a message back when it cuts a transaction short
// would send it twice. Without PIPELINING each command waits for its
// reply (three round trips instead of four).
//
// A relay reads a chunk whatever it answered to the commands before it
// (RFC 3030 section 2: a refused BDAT still consumes its chunk), so a
// refused MAIL or RCPT leaves the session in step for the next message.
//
// Because the body leaves with the commands, a session that breaks before
// the reply to BDAT is ambiguous: the relay may have taken the message
// and lost only its replies. Such a failure counts as one after the body
// went out (the caller retries later, the mailer never resends on its
// own), except where the relay cannot have the whole message: the write
// itself failed, a reply refused MAIL or RCPT, or the relay reset the
// connection (a TCP reset comes from a socket closed before it read all
// it was sent, as a relay that restarted leaves its pooled sessions).

// sendChunked runs one transaction with BDAT. It reports the stage
// reached and whether the message may have reached the relay, as
// conn.send does.
func (s *session) sendChunked(c *conn, env Envelope, msg []byte, t Timeouts, whole bool) (Stage, bool, error) {
	msg = s.lineEnds(msg)
	var (
		batch [4]pipelined
		ends  [4]int // where each command ends in b
	)
	n := 0
	reset := c.needReset
	b := s.line[:0]
	if reset {
		b = append(b, "RSET\r\n"...)
		batch[n], ends[n] = pipelined{StageMail, 250}, len(b)
		n++
	}
	b = s.appendMail(b, env.From, len(msg))
	batch[n], ends[n] = pipelined{StageMail, 250}, len(b)
	n++
	b = append(b, "RCPT TO:<"...)
	b = append(b, env.To...)
	b = append(b, ">\r\n"...)
	batch[n], ends[n] = pipelined{StageRcpt, 25}, len(b)
	n++
	b = append(b, "BDAT "...)
	b = strconv.AppendInt(b, int64(len(msg)), 10)
	b = append(b, " LAST\r\n"...)
	batch[n], ends[n] = pipelined{StageData, 250}, len(b)
	n++
	s.line = b

	s.plain.SetDeadline(time.Now().Add(t.Command + t.Data))
	defer s.plain.SetDeadline(time.Time{})
	var (
		failed    error
		failStage Stage
		from      int  // the first byte of b not written yet
		bodyOut   bool // the chunk has been written
	)
	for i := 0; i < n; {
		// With PIPELINING every command goes in one write (the chunk in
		// a second unless the caller keeps to the end); without, one
		// command a write, each after the reply to the one before.
		j := n
		switch {
		case !s.pipelining:
			j = i + 1
		case !whole && i < n-1:
			j = n - 1
		}
		var body []byte
		if j == n {
			body = msg
		}
		if err := s.writeCommands(b[from:ends[j-1]], body); err != nil {
			// The relay cannot have read the whole chunk.
			return batch[i].stage, false, err
		}
		from, bodyOut = ends[j-1], j == n
		for ; i < j; i++ {
			_, _, err := s.reply(batch[i].code)
			if err == nil {
				if i == 0 && reset {
					c.needReset = false
				}
				if i == n-1 {
					// 250 to BDAT LAST: the relay has the message.
					c.sent++
					return StageData, true, nil
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
				return batch[i].stage, bodyOut && mayHaveMessage(i == n-1, se, err), err
			}
			if failed == nil {
				failed, failStage = err, batch[i].stage
			}
		}
		if failed != nil {
			// Without PIPELINING nothing follows a refusal; with it, the
			// reply to BDAT was the last one to read.
			break
		}
	}
	return failStage, false, failed
}

// mayHaveMessage says whether a session that broke while the replies of a
// chunked transaction were read may have left the message with the relay.
// A 421 before the reply to BDAT refuses the transaction (one in its place
// is read as after DATA's body: the relay had it); a reset connection
// means the relay did not read all that was sent; any other failure
// (end of stream, timeout) may have lost only the replies.
func mayHaveMessage(atChunk bool, se *smtp.SMTPError, err error) bool {
	if se != nil {
		return atChunk
	}
	return !errors.Is(err, syscall.ECONNRESET)
}

// appendMail appends a MAIL command with the parameters go-smtp would
// add for the relay's extensions (BODY=8BITMIME, then SIZE=).
func (s *session) appendMail(b []byte, from string, size int) []byte {
	b = append(b, "MAIL FROM:<"...)
	b = append(b, from...)
	b = append(b, '>')
	if s.body8bit {
		b = append(b, " BODY=8BITMIME"...)
	}
	if s.size {
		b = append(b, " SIZE="...)
		b = strconv.AppendInt(b, int64(size), 10)
	}
	return append(b, "\r\n"...)
}

// writeCommands writes cmds and then body (which may be empty) and
// flushes. On a plain TCP connection, whose writes are system calls, both
// go out in one writev without copying the message into the writer's
// buffer; over TLS they go through the buffer.
func (s *session) writeCommands(cmds, body []byte) error {
	if tcp, ok := s.plain.(*net.TCPConn); ok && len(body) > 0 && s.text.W.Buffered() == 0 {
		b := append(s.bufs[:0], cmds, body)
		s.bufs = b
		nb := net.Buffers(b)
		_, err := nb.WriteTo(tcp)
		clear(b) // keep no hold on the caller's message
		return err
	}
	s.text.W.Write(cmds)
	s.text.W.Write(body)
	return s.text.W.Flush()
}

// lineEnds returns msg as the relay would have received it after DATA:
// net/textproto's DotWriter (which go-smtp's client and writeData use)
// turns a bare LF into CRLF and ends the message with CRLF, and the relay
// takes the dot-stuffing off again. Herald's messages have CRLF line ends
// only and come back as they are; anything else is rewritten into a
// buffer the session keeps.
func (s *session) lineEnds(msg []byte) []byte {
	n := len(msg)
	if n >= 2 && msg[n-2] == '\r' && msg[n-1] == '\n' {
		lf := bytes.Count(msg, []byte{'\n'})
		if bytes.Count(msg, []byte{'\r'}) == lf && bytes.Count(msg, crlf) == lf {
			return msg
		}
	}
	s.norm = dotWriterLineEnds(s.norm[:0], msg)
	return s.norm
}

var crlf = []byte("\r\n")

// dotWriterLineEnds appends msg to dst with the line ends DotWriter
// writes, following its states (leading dots aside).
func dotWriterLineEnds(dst, msg []byte) []byte {
	const (
		begin = iota
		cr
		data
		beginLine
	)
	state := begin
	for _, c := range msg {
		switch state {
		case begin, beginLine, data:
			state = data
			if c == '\r' {
				state = cr
			}
			if c == '\n' {
				dst = append(dst, '\r')
				state = beginLine
			}
		case cr:
			state = data
			if c == '\n' {
				state = beginLine
			}
		}
		dst = append(dst, c)
	}
	switch state {
	case begin, data:
		dst = append(dst, '\r', '\n')
	case cr:
		dst = append(dst, '\n')
	}
	return dst
}

type keptToEndKey struct{}

// KeepToEnd marks sends whose caller never cancels ctx while a transaction
// is under way (it stops only between messages, and lets a message that
// has begun finish), as the campaign engine does. Under such a context a
// relay that offers PIPELINING and CHUNKING gets the message in the same
// write as its commands: one round trip. Without the mark the message
// waits for the replies to MAIL and RCPT, so that a transaction cut short
// before them certainly did not deliver it.
func KeepToEnd(ctx context.Context) context.Context {
	return context.WithValue(ctx, keptToEndKey{}, true)
}

func keptToEnd(ctx context.Context) bool {
	v, _ := ctx.Value(keptToEndKey{}).(bool)
	return v
}

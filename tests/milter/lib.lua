-- helpers for the miltertest scripts; globals from -D: sock, spool, dir
-- each check prints "ok - what" or "not ok - what" for tests/run.sh

failures = 0
msgseq = 0

function check(cond, what)
	if cond then
		print("ok - " .. what)
	else
		print("not ok - " .. what)
		failures = failures + 1
	end
end

function done()
	if failures > 0 then
		error(failures .. " check(s) failed")
	end
end

-- a protocol step the filter may have negotiated away (SMFIP_NOMAIL,
-- SMFIP_NOEOH): true when it was sent, false when the filter asked not to
-- be sent it; any other failure stops the script
function step(f, conn, ...)
	local ok, e = pcall(f, conn, ...)
	if ok then
		if e ~= nil then
			error("miltertest step failed")
		end
		return true
	end
	if string.find(tostring(e), "negotiated SMFIP_NO", 1, true) then
		return false
	end
	error(e)
end

-- an envelope address as the {mail_addr} macro has it: no angle brackets
function envaddr(a)
	return (string.gsub(a or "", "^%s*<(.*)>%s*$", "%1"))
end

-- the start every message shares: connect, queue id, MAIL (which may be
-- negotiated away: the sender then comes with RCPT) and the sender macro
-- as Postfix and Sendmail send it. returns the connection and, when the
-- filter refused at MAIL, its reply
function begin_message(t, qidtag)
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then
		error("cannot connect to " .. sock)
	end
	msgseq = msgseq + 1
	mt.macro(conn, SMFIC_MAIL, "i", t.qid or (qidtag .. msgseq))
	-- no reply at MAIL may be agreed: only a refusal stops here
	if step(mt.mailfrom, conn, t.from) then
		local r = mt.getreply(conn)
		if r == SMFIR_TEMPFAIL or r == SMFIR_REJECT or
		    r == SMFIR_REPLYCODE then
			return conn, r
		end
	end
	if not t.no_mail_addr then
		mt.macro(conn, SMFIC_RCPT, "{mail_addr}", envaddr(t.from))
	end
	return conn, nil
end

-- the end every message shares: the header (with a Message-ID unless it
-- has one or t.no_msgid), the body, end of message; the filter's reply
function end_message(conn, t, idtag, body)
	local hdrs = t.headers or {}
	local have_msgid = false
	for _, h in ipairs(hdrs) do
		if string.lower(h[1]) == "message-id" then
			have_msgid = true
		end
	end
	if not have_msgid and not t.no_msgid then
		mt.header(conn, "Message-ID", "<" .. idtag .. msgseq .. "." ..
		    os.time() .. "." .. math.random(1000000) .. "@example.org>")
	end
	for _, h in ipairs(hdrs) do
		if mt.header(conn, h[1], h[2]) ~= nil then
			error("mt.header failed")
		end
	end
	step(mt.eoh, conn)
	mt.bodystring(conn, t.body or body)
	if mt.eom(conn) ~= nil then
		error("mt.eom failed")
	end
	return mt.getreply(conn)
end

-- one message through the filter; returns the connection, the last reply
-- and the stage ("data" when the filter let it go before the header)
function send(t)
	local conn, r = begin_message(t, "QID")
	if r ~= nil then
		return conn, r
	end
	for _, a in ipairs(t.rcpts) do
		if mt.rcptto(conn, a) ~= nil then
			error("mt.rcptto failed")
		end
	end
	-- the filter decides at DATA, when every recipient is known
	if mt.data(conn) ~= nil then
		error("mt.data failed")
	end
	r = mt.getreply(conn)
	if r == SMFIR_ACCEPT then
		return conn, SMFIR_ACCEPT, "data"
	elseif r == SMFIR_TEMPFAIL or r == SMFIR_REJECT or r == SMFIR_REPLYCODE then
		return conn, r, "data"
	end
	return conn, end_message(conn, t, "mt",
	    "Hello, I would like to know more.\r\n"), "eom"
end

-- the reply at end of message that means "accepted"
function accepted(r)
	return r == SMFIR_CONTINUE or r == SMFIR_ACCEPT
end

function ref_of(conn)
	return mt.getheader(conn, "X-Enquiry-Reference", 0)
end

-- the spool file of an acknowledgement for ref, or nil
function spooled(ref)
	if ref == nil then
		return nil
	end
	for _, sub in ipairs({ "new", "tmp", "failed" }) do
		local p = io.popen("ls " .. spool .. "/" .. sub .. " 2>/dev/null")
		for name in p:lines() do
			if string.find(name, ref, 1, true) then
				p:close()
				return spool .. "/" .. sub .. "/" .. name
			end
		end
		p:close()
	end
	return nil
end

function slurp(path)
	local f = io.open(path, "rb")
	if f == nil then
		return ""
	end
	local s = f:read("*a")
	f:close()
	return s
end

-- a plain-text find
function has(s, needle)
	return s ~= nil and string.find(s, needle, 1, true) ~= nil
end

math.randomseed(os.time())

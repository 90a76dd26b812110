# docs/doc_filter.awk — doxygen's INPUT_FILTER for parc's headers: turns a
# plain /* comment into a doc comment where it documents something, so
# the headers' comments are read whether they are written /* or /**.
#
#   - the comment that opens a file becomes the file's description
#     (/** ... @file */);
#   - a comment that starts in column 0 and is followed directly (no blank
#     line) by a declaration, a definition or a #define becomes /** ...;
#   - one doc comment above several prototypes with no blank line between
#     them (parc_x, parc_x_try, parc_x_timed) documents each of them: the
#     block becomes a doxygen member group (/**@{*/ ... /**@}*/, with
#     DISTRIBUTE_GROUP_DOC in the Doxyfile);
#   - every other comment (section rulers, notes followed by a blank line,
#     comments inside function bodies) stays as it is.
#
# Line numbers are kept: the filter only rewrites the opening "/*" and
# appends the group marks to existing lines.
# Plain POSIX awk (mawk, Debian's default, runs it).

function print_block(    i, semis, braces, grouped) {
    semis = 0; braces = 0
    for (i = 1; i <= nblk; i++) {
        semis += gsub(/;/, ";", blk[i])
        braces += gsub(/[{]/, "{", blk[i])
    }
    grouped = (semis >= 2 && braces == 0 && blk[1] !~ /^#/)
    if (grouped) {
        cbuf[1] = "/**@{*/ " cbuf[1]
        blk[nblk] = blk[nblk] " /**@}*/"
    }
    for (i = 1; i <= ncbuf; i++)
        print cbuf[i]
    for (i = 1; i <= nblk; i++)
        print blk[i]
    ncbuf = 0; nblk = 0; inblock = 0
}

# Decide what the comment in buf[] is, now that the line after it is known.
function flush_pending(next_line,    doc, i) {
    doc = 0
    if (pending_first)
        doc = 2
    else if (next_line != "" && next_line !~ /^[ \t]*$/ &&
             (next_line !~ /^#/ || next_line ~ /^#[ \t]*define[ \t]/))
        doc = 1
    if (doc == 2 && buf[1] !~ /[@\\]file/) {
        # "@file" goes just before the closing "*/": on the opening line
        # doxygen would read the next word as the file's name
        sub(/^\/\*\*?/, "/**", buf[1])
        sub(/\*\/[ \t]*$/, "@file */", buf[nbuf])
    }
    else if (doc == 1 && buf[1] !~ /^\/\*\*/)
        sub(/^\/\*/, "/**", buf[1])
    pending = 0
    pending_first = 0
    if (doc == 1) {
        # hold the comment and the block under it until a blank line
        for (i = 1; i <= nbuf; i++)
            cbuf[i] = buf[i]
        ncbuf = nbuf
        nblk = 0
        inblock = 1
    } else {
        for (i = 1; i <= nbuf; i++)
            print buf[i]
    }
    nbuf = 0
}

BEGIN { nbuf = 0; ncbuf = 0; nblk = 0; pending = 0; inblock = 0; incomment = 0; seen_comment = 0 }

{
    line = $0
    if (incomment) {
        buf[++nbuf] = line
        if (index(line, "*/") > 0) {
            incomment = 0
            pending = 1
        }
        next
    }
    if (pending)
        flush_pending(line)
    if (inblock) {
        if (line ~ /^[ \t]*$/ || line ~ /^\/\*/) {
            print_block()
        } else {
            blk[++nblk] = line
            next
        }
    }
    if (line ~ /^\/\*/ && line !~ /^\/\*!/) {
        nbuf = 1
        buf[1] = line
        pending_first = !seen_comment && NR <= 2
        seen_comment = 1
        rest = substr(line, 3)
        if (index(rest, "*/") > 0)
            pending = 1
        else
            incomment = 1
        next
    }
    print line
}

END {
    if (pending || incomment)
        flush_pending("")
    if (inblock)
        print_block()
}

#!/bin/sh
# Writes the glia(1) manual page from the built command's own help, so the
# page says what `glia help` says: the command list, then each command's
# options as `glia help CMD` prints them.
#   glia_man.sh GLIA VERSION OUT.1
set -eu
glia=$1 version=$2
exec >"$3.tmp"
trap 'mv "$3.tmp" "$3"' EXIT
# roff: a backslash is \e, a line starting with . or ' is protected with \&
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
cat <<HEAD
.TH GLIA 1 "" "glia $version" "User Commands"
.SH NAME
glia \- train and run brain-tumour segmentation networks on any GPU (OpenCL, Vulkan) or the CPU
.SH SYNOPSIS
.B glia
.I command
[\fIoptions\fR]
.SH DESCRIPTION
Every command takes \fB\-h\fR/\fB\-\-help\fR, \fB\-\-option=value\fR as well as \fB\-\-option value\fR,
and \fB\-o\fR/\fB\-\-out\fR for its output.
.SH COMMANDS
.nf
HEAD
"$glia" help | esc
echo ".fi"
for c in $("$glia" help | awk '/^commands:/ {on = 1; next} on && NF && $1 != "help" && $1 !~ /^-/ {print $1}'); do
    echo ".SH \"GLIA $(echo "$c" | tr a-z A-Z)\""
    echo ".nf"
    "$glia" help "$c" | esc
    echo ".fi"
done

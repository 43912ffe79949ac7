"""Mailbox management beyond reading and sending: attachments in and out, drafts, untrash and spam,
label management and batch label changes (`tools` registers them on the gmail server)."""

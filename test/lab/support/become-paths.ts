// Paths shared by test/lab/become.test.ts and its playbook (importing the playbook would run it).
export const BECOME_DIR = '/var/tmp/drover-become';
export const CHECK_MARKER = `${BECOME_DIR}/written-in-check-mode`;

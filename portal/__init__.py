"""Identity and access: agencies, users, roles and claims, sign-in with MFA, audit log."""

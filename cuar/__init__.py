"""User access requests (CUAR): the approval chain, claims checklist, certification form
and provisioning of approved, trained users."""

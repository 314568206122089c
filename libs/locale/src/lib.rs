//! One locale type and one date/time formatter shared by the emails and the portal.

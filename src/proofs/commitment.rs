//! Notification-and-commitment (告知承诺).

//! Given/when/then tests of the Complaint rules. `fixtures` builds one hostel with two plumbing-or-
//! electrical staff members and a warden, the actors of every role, and complaints driven to any status
//! through real decisions, so each test starts from a history the aggregate itself produced.

mod closing;
mod comments;
mod feedback;
mod filing;
mod fixtures;
mod framework;
mod photos;
mod work;

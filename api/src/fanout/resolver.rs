//! [`Resolver`]: the hostel and reporter of a complaint, for events whose payload does not carry them.
//! Like the complaint-list projection, it takes them from the complaint's first event
//! (`ComplaintFiled`), which never changes. A bounded cache keeps the facts of recent complaints;
//! filings that pass through the relay or the gateway fill it, so a lookup in the database happens
//! only for complaints filed before this process started (or evicted since).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::event::{facts_of_filing, BusEvent, ComplaintFacts};
use cms_domain::complaint::AGGREGATE_TYPE as COMPLAINT;
use cms_eventstore::store::{EventStore, RecordedEvent, StoreError};

/// Complaints whose facts are cached; past it the cache starts over (cheap, and rare).
const CACHE_LIMIT: usize = 100_000;

/// Finds complaint facts, cached.
#[derive(Debug, Clone)]
pub struct Resolver {
    store: EventStore,
    cache: Arc<Mutex<HashMap<String, ComplaintFacts>>>,
}

impl Resolver {
    /// A resolver reading from `store`.
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn cached(&self, id: &str) -> Option<ComplaintFacts> {
        self.cache.lock().ok()?.get(id).cloned()
    }

    fn remember(&self, id: &str, facts: &ComplaintFacts) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(id.to_owned(), facts.clone());
        }
    }

    /// The facts of complaint `id`, or `None` when it has no filing (a damaged log).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn facts(&self, id: &str) -> Result<Option<ComplaintFacts>, StoreError> {
        if let Some(facts) = self.cached(id) {
            return Ok(Some(facts));
        }
        let events = self.store.load(COMPLAINT, id).await?;
        let facts = events.first().and_then(facts_of_filing);
        if let Some(facts) = &facts {
            self.remember(id, facts);
        }
        Ok(facts)
    }

    /// The bus event of a log event, with its facts looked up when needed.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn bus_event(&self, event: &RecordedEvent) -> Result<BusEvent, StoreError> {
        if event.aggregate_type != COMPLAINT {
            return Ok(BusEvent::new(event, None));
        }
        let facts = match facts_of_filing(event) {
            Some(facts) => {
                self.remember(&event.aggregate_id, &facts);
                Some(facts)
            }
            None => self.facts(&event.aggregate_id).await?,
        };
        Ok(BusEvent::new(event, facts.as_ref()))
    }
}

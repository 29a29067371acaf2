-- A copy of the database (test, staging) must never reach the clinic's live Alma account.
UPDATE payment_provider
   SET alma_api_key_live = NULL,
       alma_api_key_test = NULL,
       alma_api_url = NULL
 WHERE code = 'alma';

# The managers' Google Sheet: what admins are told when the export stops, and why.
sheets-alert-stopped =
    Exporting results to the Google Sheet has stopped: { $problem }
    No results are lost: they wait in the queue and are exported by themselves once this is fixed.
sheets-alert-resumed = Exporting to the Google Sheet works again: the queued results are exported or on their way.
sheets-problem-the-account = the service account
sheets-problem-key-unreadable = the service account key ({ $keyFile }) cannot be read. Check the file and GOOGLE_SERVICE_ACCOUNT_FILE.
sheets-problem-key-rejected = Google does not accept the key of { $account } — it may have been deleted or disabled. Create a new JSON key in Google Cloud Console and replace the file { $keyFile }.
sheets-problem-api-disabled = the Google Sheets API is disabled in the Google Cloud project of { $account }. Enable it: Google Cloud Console → APIs & Services → Library → Google Sheets API.
sheets-problem-no-access = { $account } may not write to the spreadsheet. Open the spreadsheet → Share and add { $account } as an editor.
sheets-problem-spreadsheet-missing = spreadsheet { $spreadsheetId } was not found. Check GOOGLE_SHEETS_ID (the part of the spreadsheet's address between /d/ and /edit).

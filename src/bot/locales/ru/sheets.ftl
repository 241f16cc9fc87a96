# The managers' Google Sheet: what admins are told when the export stops, and why.
sheets-alert-stopped =
    Выгрузка результатов в Google-таблицу остановлена: { $problem }
    Результаты не потеряны: они ждут в очереди и выгрузятся сами, как только это будет исправлено.
sheets-alert-resumed = Выгрузка в Google-таблицу снова работает: результаты из очереди выгружены или выгружаются.
sheets-problem-the-account = сервисного аккаунта
sheets-problem-key-unreadable = не читается ключ сервисного аккаунта ({ $keyFile }). Проверьте файл и GOOGLE_SERVICE_ACCOUNT_FILE.
sheets-problem-key-rejected = Google не принимает ключ { $account } — возможно, ключ удалён или отключён. Создайте новый JSON-ключ в Google Cloud Console и замените файл { $keyFile }.
sheets-problem-api-disabled = в проекте Google Cloud, к которому относится { $account }, выключен Google Sheets API. Включите его: Google Cloud Console → APIs & Services → Library → Google Sheets API.
sheets-problem-no-access = у { $account } нет права на запись в таблицу. Откройте таблицу → «Настройки доступа» и добавьте { $account } как редактора.
sheets-problem-spreadsheet-missing = таблица { $spreadsheetId } не найдена. Проверьте GOOGLE_SHEETS_ID (часть адреса таблицы между /d/ и /edit).

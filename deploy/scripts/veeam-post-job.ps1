<#
.SYNOPSIS
  Veeam Backup & Replication post-job script: reports the finished session
  to the Backup Management System (POST /api/veeam/job-complete).

.DESCRIPTION
  Set it as a job's post-job script (Job settings > Storage > Advanced >
  Scripts > "Run the following script after the job"):

    powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\Scripts\veeam-post-job.ps1
      -ConsoleUrl https://backup.example.co.jp -Token bms_xxxxxxxx

  Veeam starts post-job scripts while the session is still finishing, and
  waits for them. So the script finds its job and session, starts a copy of
  itself in the background (-Detached) and returns at once; the copy waits
  for the session to end, then posts the result, retrying with back-off for
  up to an hour if the console cannot be reached. Each run is logged to
  %ProgramData%\BackupManagementSystem\veeam-post-job.log.

  The token is an API token with the "ingest" scope (create it on your
  profile page in the console). The same session posted twice is stored
  once, so retries are safe.

.PARAMETER ConsoleUrl
  The console's base URL. Default: $env:BMS_CONSOLE_URL.
.PARAMETER Token
  An API token with the ingest scope. Default: $env:BMS_CONSOLE_TOKEN.
.PARAMETER WaitMinutes
  How long to wait for the session to end (default 120).
.PARAMETER SkipCertificateCheck
  Accept a self-signed console certificate (PowerShell 7 only).
#>
[CmdletBinding()]
param(
  [string]$ConsoleUrl = $env:BMS_CONSOLE_URL,
  [string]$Token = $env:BMS_CONSOLE_TOKEN,
  [int]$WaitMinutes = 120,
  [switch]$SkipCertificateCheck,
  [switch]$Detached,
  [string]$JobId,
  [string]$SessionId
)

$ErrorActionPreference = 'Stop'
$logDir = Join-Path $env:ProgramData 'BackupManagementSystem'
New-Item -ItemType Directory -Force -Path $logDir | Out-Null
$logFile = Join-Path $logDir 'veeam-post-job.log'
function Write-Log([string]$Message) {
  "$(Get-Date -Format o) [$PID] $Message" | Add-Content -Path $logFile -Encoding UTF8
}

if (-not $ConsoleUrl -or -not $Token) {
  Write-Log 'ConsoleUrl and Token are required (parameters or BMS_CONSOLE_URL / BMS_CONSOLE_TOKEN).'
  exit 1
}
$ConsoleUrl = $ConsoleUrl.TrimEnd('/')

# Veeam's PowerShell module (v12+) or snap-in (older).
if (-not (Get-Command Get-VBRJob -ErrorAction SilentlyContinue)) {
  Import-Module Veeam.Backup.PowerShell -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
  if (-not (Get-Command Get-VBRJob -ErrorAction SilentlyContinue)) {
    Add-PSSnapin VeeamPSSnapin -ErrorAction SilentlyContinue
  }
}

if (-not $Detached) {
  # Called by Veeam: the parent process (Veeam.Backup.Manager.exe) carries
  # the job and session ids on its command line.
  $self = Get-CimInstance Win32_Process -Filter "ProcessId=$PID"
  $parent = Get-CimInstance Win32_Process -Filter "ProcessId=$($self.ParentProcessId)"
  $guids = [regex]::Matches([string]$parent.CommandLine, '[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}') | ForEach-Object { $_.Value }
  if ($guids.Count -lt 1) {
    Write-Log "Cannot find the job id in the parent's command line: $($parent.CommandLine)"
    exit 1
  }
  $JobId = $guids[0]
  if ($guids.Count -gt 1) { $SessionId = $guids[1] }
  $arguments = @('-NoProfile', '-ExecutionPolicy', 'Bypass', '-File', "`"$PSCommandPath`"",
    '-ConsoleUrl', $ConsoleUrl, '-Token', $Token, '-WaitMinutes', $WaitMinutes, '-Detached', '-JobId', $JobId)
  if ($SessionId) { $arguments += @('-SessionId', $SessionId) }
  if ($SkipCertificateCheck) { $arguments += '-SkipCertificateCheck' }
  Start-Process -FilePath (Get-Process -Id $PID).Path -ArgumentList $arguments -WindowStyle Hidden
  Write-Log "Started the background reporter for job $JobId"
  exit 0
}

try {
  $job = Get-VBRJob | Where-Object { $_.Id -eq $JobId } | Select-Object -First 1
  if (-not $job) { throw "No Veeam job with id $JobId" }
  $session = $null
  if ($SessionId) { $session = Get-VBRBackupSession -Id $SessionId -ErrorAction SilentlyContinue }
  if (-not $session) {
    $session = Get-VBRBackupSession | Where-Object { $_.JobId -eq $job.Id } |
      Sort-Object CreationTime -Descending | Select-Object -First 1
  }
  if (-not $session) { throw "No session found for job $($job.Name)" }

  # Wait for the session to end (state Stopped), re-reading it every 15 s.
  $deadline = (Get-Date).AddMinutes($WaitMinutes)
  while ($session.State -ne 'Stopped' -and (Get-Date) -lt $deadline) {
    Start-Sleep -Seconds 15
    $session = Get-VBRBackupSession -Id $session.Id
  }
  if ($session.State -ne 'Stopped') { throw "Session $($session.Id) did not end within $WaitMinutes minutes" }

  $body = [ordered]@{
    veeam_job_id    = [string]$job.Id
    job_name        = [string]$job.Name
    session_id      = [string]$session.Id
    result          = [string]$session.Result
    start_time      = $session.CreationTime.ToUniversalTime().ToString('o')
    end_time        = $session.EndTime.ToUniversalTime().ToString('o')
    bytes_processed = [int64]$session.Progress.ProcessedSize
    message         = [string]$session.Info.Reason
  } | ConvertTo-Json -Compress

  $request = @{
    Method      = 'Post'
    Uri         = "$ConsoleUrl/api/veeam/job-complete"
    Headers     = @{ Authorization = "Bearer $Token" }
    ContentType = 'application/json; charset=utf-8'
    Body        = [System.Text.Encoding]::UTF8.GetBytes($body)
  }
  if ($SkipCertificateCheck -and $PSVersionTable.PSVersion.Major -ge 7) { $request.SkipCertificateCheck = $true }

  # Retries with exponential back-off for about an hour; a 4xx (bad token,
  # bad data) will not get better by retrying.
  $delay = 10
  for ($attempt = 1; ; $attempt++) {
    try {
      $answer = Invoke-RestMethod @request
      Write-Log "Reported session $($session.Id) of '$($job.Name)' ($($session.Result)); new: $($answer.created)"
      break
    } catch {
      $status = $_.Exception.Response.StatusCode.value__
      if ($status -ge 400 -and $status -lt 500 -and $status -ne 429) { throw "The console refused the report ($status): $($_.ErrorDetails.Message)" }
      if ($attempt -ge 12) { throw "Gave up after $attempt attempts: $($_.Exception.Message)" }
      Write-Log "Attempt $attempt failed ($($_.Exception.Message)); retrying in $delay s"
      Start-Sleep -Seconds $delay
      $delay = [Math]::Min($delay * 2, 600)
    }
  }
} catch {
  Write-Log "ERROR: $($_.Exception.Message)"
  exit 1
}
